"""Which yt-dlp extractor takes a link, and the key that names its video for dedupe.

Only the four platforms creators take reels from have their extractors; anything else goes to
yt-dlp's generic extractor, which takes a direct link to a video file or a page with an
`og:video`. Choosing here (rather than letting yt-dlp try its ~1800 extractors) keeps the
surface small and the choice testable without network.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

# yt-dlp extractor key -> our platform name; the first suitable one wins.
PLATFORM_EXTRACTORS: tuple[tuple[str, str], ...] = (
    ("Instagram", "instagram"),
    ("TikTok", "tiktok"),
    ("TikTokVM", "tiktok"),
    ("Youtube", "youtube"),
    ("VK", "vk"),
)
GENERIC = ("Generic", "web")


@dataclass(frozen=True)
class Choice:
    extractor: str  # yt-dlp's ie_key
    platform: str
    video_id: str | None  # known from the URL alone, else None

    @property
    def key(self) -> str | None:
        """`platform:id` when the URL names its video, for dedupe before downloading."""
        return f"{self.platform}:{self.video_id}" if self.video_id else None


def choose(url: str) -> Choice:
    """The extractor for `url` (no network)."""
    from yt_dlp.extractor import get_info_extractor

    for ie_key, platform in PLATFORM_EXTRACTORS:
        ie = get_info_extractor(ie_key)
        if ie.suitable(url):
            return Choice(ie_key, platform, _video_id(ie, url, platform))
    return Choice(GENERIC[0], GENERIC[1], None)


def _video_id(ie: type, url: str, platform: str) -> str | None:
    if platform == "tiktok" and ie.ie_key() == "TikTokVM":  # type: ignore[attr-defined]
        return None  # a short link's code, not the video's id: known after the download
    match = ie._match_valid_url(url)  # type: ignore[attr-defined]
    if match is None:
        return None
    groups = match.groupdict()
    value = groups.get("id") or groups.get("videoid")
    return str(value) if value else None


def canonical_url(url: str) -> str:
    """The link without what does not change the video: the fragment, case of scheme and host,
    a default port."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    default = {"http": 80, "https": 443}.get(scheme)
    netloc = host if parts.port in (None, default) else f"{host}:{parts.port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


# The jobs.source_key column's width.
SOURCE_KEY_MAX = 400


def bounded_key(key: str) -> str:
    """`key` as it fits the column: a longer one becomes the SHA-256 of the whole key, never a
    cut (two long links sharing their first 400 characters would be one video)."""
    if len(key) <= SOURCE_KEY_MAX:
        return key
    prefix = key.split(":", 1)[0]
    return f"{prefix}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def source_key(url: str) -> str:
    """What identifies the video of `url` before it is fetched: `platform:id`, else
    `url:<canonical URL>`; bounded for the column (`bounded_key`)."""
    key = choose(url).key
    return bounded_key(key if key is not None else f"url:{canonical_url(url)}")


def downloaded_key(platform: str, extractor_key: str | None, video_id: str | None) -> str | None:
    """The key of what was actually fetched (a short link resolves to its video's id)."""
    if platform == GENERIC[1] or not video_id:
        return None
    return bounded_key(f"{platform}:{video_id}")
