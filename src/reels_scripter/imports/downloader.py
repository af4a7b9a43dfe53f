"""Fetch a reel by its link with yt-dlp (a pinned library, never a subprocess).

Runs in the worker only. The limits are checked before the bytes arrive wherever the site
tells them: the duration from the metadata, the size from the format's figures or the
response's Content-Length (yt-dlp's `max_filesize`); a body without a length is cut as soon as
it passes MAX_FILE_SIZE; the whole fetch has a deadline (IMPORT_TIMEOUT_SEC) and a stalled
connection gives up after IMPORT_STALL_SEC. Every connection is held to the address rule of
`imports.policy`. The caller owns `workdir` and removes it whatever happens, so no partial
file outlives a failure.

Format: the best single-file MP4 at most 1080p with sound, or separate video and audio merged
by ffmpeg where a binary is present; without ffmpeg only single files are asked for, and the
result says so (notice `import_single_file`).
"""

from __future__ import annotations

import logging
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reels_scripter.analysis.models import Notice
from reels_scripter.config import Settings
from reels_scripter.contract import Source
from reels_scripter.errors import one_line
from reels_scripter.imports.errors import (
    LinkError,
    LinkForbiddenError,
    LinkLoginRequiredError,
    LinkNotFoundError,
    LinkTimeoutError,
    LinkTooLargeError,
    LinkTooLongError,
    LinkUnreachableError,
    LinkUnsupportedError,
)
from reels_scripter.imports.platforms import Choice, choose, downloaded_key
from reels_scripter.imports.policy import check_link, guarded

log = logging.getLogger(__name__)

# Plain HTTP(S) formats only: yt-dlp hands HLS with features it lacks (and live streams) to the
# ffmpeg program, whose own connections the address guard never sees (SSRF through a playlist's
# segment addresses). `protocol^=http` keeps http, https and DASH segments, which yt-dlp
# fetches itself through the guarded handler.
_HTTP = "[protocol^=http]"
MERGED_FORMAT = (
    f"bv*[height<=1080][ext=mp4]{_HTTP}+ba[ext=m4a]{_HTTP}/b[height<=1080][ext=mp4]{_HTTP}"
    f"/b[height<=1080]{_HTTP}/bv*{_HTTP}+ba{_HTTP}/b{_HTTP}"
)
SINGLE_FORMAT = f"b[height<=1080][ext=mp4]{_HTTP}/b[height<=1080]{_HTTP}/b{_HTTP}"
OUTPUT_NAME = "video"  # never a name from the site or the client
_HASHTAG = re.compile(r"(?<![\w#])#(\w{1,100})")

ProgressReport = Callable[[float], None]


@dataclass(frozen=True)
class Downloaded:
    path: Path
    source: Source
    key: str | None  # platform:id of what was fetched, for dedupe
    notices: list[Notice] = field(default_factory=list)


class _Stop(Exception):
    def __init__(self, error: LinkError) -> None:
        super().__init__(error.message)
        self.error = error


def ffmpeg_binary(settings: Settings) -> str | None:
    return settings.import_ffmpeg or shutil.which("ffmpeg")


def fetch(
    url: str,
    workdir: Path,
    settings: Settings,
    *,
    on_progress: ProgressReport | None = None,
) -> Downloaded:
    """Download the reel at `url` into `workdir`; LinkError (or a subclass) when it cannot."""
    url = url.strip()
    check_link(url, allow_private=settings.import_allow_private)
    choice = choose(url)
    workdir.mkdir(parents=True, exist_ok=True)
    ffmpeg = ffmpeg_binary(settings)
    watch = _Watch(settings, on_progress)
    params = _params(settings, workdir, ffmpeg, watch)
    from yt_dlp.utils import YoutubeDLError

    with guarded(settings.import_allow_private) as guard, _Downloader(params) as ydl:
        try:
            info = ydl.extract_info(url, download=False, ie_key=choice.extractor)
            info = _single(info)
            _check_metadata(info, settings)
            watch.check_deadline()
            ydl.process_ie_result(info, download=True)
        except _Stop as stop:
            raise stop.error from None
        except LinkError:
            raise
        except YoutubeDLError as exc:
            if guard.refused is not None:
                raise LinkForbiddenError(guard.refused) from None
            raise _classify(exc, watch, settings) from None
        except OSError as exc:
            if guard.refused is not None:
                raise LinkForbiddenError(guard.refused) from None
            raise LinkUnreachableError(one_line(str(exc))) from None
    if watch.over_limit:
        raise _too_large(settings)
    path = _downloaded_file(info, workdir)
    if path is None:
        raise LinkUnsupportedError("yt-dlp finished without a file")
    notices = []
    if ffmpeg is None:
        notices.append(
            Notice.of(
                "import_single_file",
                "No ffmpeg binary: the reel was fetched as one file, which may not be the best "
                "quality the site has.",
            )
        )
    source = source_of(url, choice, info)
    return Downloaded(
        path=path,
        source=source,
        key=downloaded_key(choice.platform, info.get("extractor_key"), source.id),
        notices=notices,
    )


class _Watch:
    """yt-dlp's progress hook: reports the fraction, cuts a body at the size limit, enforces
    the deadline while bytes flow; and its logger, which hears "larger than max-filesize"."""

    def __init__(self, settings: Settings, on_progress: ProgressReport | None) -> None:
        self.limit = settings.max_file_size_bytes
        self.timeout = settings.import_timeout_sec
        self.deadline = time.monotonic() + settings.import_timeout_sec
        self.on_progress = on_progress
        self.over_limit = False

    def check_deadline(self) -> None:
        if time.monotonic() > self.deadline:
            raise _Stop(
                LinkTimeoutError(
                    f"import took over {self.timeout:g} s", params={"limit": self.timeout}
                )
            )

    def hook(self, status: dict[str, Any]) -> None:
        if status.get("status") != "downloading":
            return
        done = int(status.get("downloaded_bytes") or 0)
        if done > self.limit:
            self.over_limit = True
            raise _Stop(
                LinkTooLargeError(
                    f"body passed {self.limit} bytes", params={"limit_mb": self.limit / 2**20}
                )
            )
        self.check_deadline()
        total = status.get("total_bytes") or status.get("total_bytes_estimate")
        if self.on_progress is not None and total:
            self.on_progress(min(done / float(total), 1.0))

    # --- the logger interface yt-dlp calls (never prints; cookies never reach it) ---
    def debug(self, message: str) -> None:
        if "larger than max-filesize" in message:
            self.over_limit = True

    def info(self, message: str) -> None:
        self.debug(message)

    def warning(self, message: str) -> None:
        log.debug("yt-dlp: %s", one_line(message))

    def error(self, message: str) -> None:
        log.debug("yt-dlp: %s", one_line(message))


def _params(settings: Settings, workdir: Path, ffmpeg: str | None, watch: _Watch) -> dict[str, Any]:
    params: dict[str, Any] = {
        "format": MERGED_FORMAT if ffmpeg else SINGLE_FORMAT,
        "merge_output_format": "mp4",
        "outtmpl": {"default": str(workdir / f"{OUTPUT_NAME}.%(ext)s")},
        "paths": {"home": str(workdir), "temp": str(workdir)},
        "noplaylist": True,
        "playlist_items": "1",
        "max_filesize": settings.max_file_size_bytes,
        "socket_timeout": min(settings.import_stall_sec, settings.import_timeout_sec),
        "retries": 0,
        "fragment_retries": 0,
        "extractor_retries": 0,
        "file_access_retries": 0,
        "noprogress": True,
        "quiet": True,
        "no_warnings": True,
        "logger": watch,
        "progress_hooks": [watch.hook],
        "cachedir": False,
        "overwrites": True,
        "continuedl": False,
        "noresizebuffer": False,
        "writethumbnail": False,
        "enable_file_urls": False,
        # no proxy from the environment: the address rule must see the real destination
        "proxy": "",
        # every byte through yt-dlp's own (guarded) downloaders, never an external program
        "external_downloader": {"default": "native"},
        "hls_prefer_native": True,
    }
    if ffmpeg:
        params["ffmpeg_location"] = ffmpeg
    cookies = settings.import_cookies_file
    if cookies is not None and cookies.is_file():
        # yt-dlp writes its cookie jar back to the file it was given: hand it a copy, so the
        # operator's file is only ever read (the copy goes with the work folder)
        copy = workdir / "cookies.txt"
        shutil.copyfile(cookies, copy)
        params["cookiefile"] = str(copy)
    return params


def _downloader_class() -> type:
    from yt_dlp import YoutubeDL
    from yt_dlp.networking._urllib import UrllibRH

    class Downloader(YoutubeDL):  # type: ignore[misc]
        """yt-dlp held to its urllib handler: the one `imports.policy` guards."""

        def build_request_director(self, handlers: Any, preferences: Any = None) -> Any:
            return super().build_request_director([UrllibRH], preferences)

    return Downloader


def _Downloader(params: dict[str, Any]) -> Any:
    return _downloader_class()(params)


def _single(info: dict[str, Any] | None) -> dict[str, Any]:
    """A page may come back as a playlist (several videos): the first one is the reel."""
    if not info:
        raise LinkUnsupportedError("no video at the link")
    if info.get("_type") == "playlist":
        entries = [e for e in info.get("entries") or [] if e]
        if not entries:
            raise LinkUnsupportedError("no video at the link")
        return dict(entries[0])
    return info


def _check_metadata(info: dict[str, Any], settings: Settings) -> None:
    if info.get("is_live") or info.get("live_status") in ("is_live", "is_upcoming"):
        raise LinkUnsupportedError("a live stream is not a reel")
    duration = info.get("duration")
    limit = settings.max_video_duration_sec
    if isinstance(duration, int | float) and duration > limit:
        raise LinkTooLongError(
            f"video is {duration:.1f} s, over {limit:g} s",
            params={"duration": float(duration), "limit": limit},
        )
    size = _announced_size(info)
    if size is not None and size > settings.max_file_size_bytes:
        raise _too_large(settings)


def _announced_size(info: dict[str, Any]) -> int | None:
    formats = info.get("requested_formats") or [info]
    sizes = [f.get("filesize") or f.get("filesize_approx") for f in formats]
    if not all(isinstance(s, int | float) and s > 0 for s in sizes):
        return None
    return int(sum(sizes))


def _too_large(settings: Settings) -> LinkTooLargeError:
    return LinkTooLargeError(
        f"video is over {settings.max_file_size_bytes} bytes",
        params={"limit_mb": settings.max_file_size_mb},
    )


def _downloaded_file(info: dict[str, Any], workdir: Path) -> Path | None:
    for item in info.get("requested_downloads") or []:
        path = Path(str(item.get("filepath") or ""))
        if path.is_file() and workdir in path.parents:
            return path
    found = sorted(
        p for p in workdir.glob(f"{OUTPUT_NAME}.*") if p.is_file() and p.suffix != ".part"
    )
    return found[0] if found else None


_LOGIN = re.compile(
    r"login|log in|sign in|private|age[- ]?(restricted|gate|confirm)|cookies|registered users"
    r"|members only|confirm your age|not available in your country",
    re.IGNORECASE,
)
_NOT_FOUND = re.compile(
    r"HTTP Error (404|410)|not found|does not exist|has been removed|video unavailable"
    r"|no longer available|deleted",
    re.IGNORECASE,
)
_TIMEOUT = re.compile(r"timed? ?out", re.IGNORECASE)
_UNREACHABLE = re.compile(
    r"HTTP Error 5\d\d|connection refused|name or service not known|nodename nor servname"
    r"|getaddrinfo|temporary failure in name resolution|network is unreachable"
    r"|connection reset|remote end closed|unable to connect|failed to resolve",
    re.IGNORECASE,
)


def _classify(exc: Exception, watch: _Watch, settings: Settings) -> LinkError:
    """A yt-dlp failure as one of our codes (by its type where it has one, else its words)."""
    from yt_dlp.utils import GeoRestrictedError, UnsupportedError

    message = one_line(str(exc))
    cause = getattr(exc, "exc_info", None)
    inner = cause[1] if cause else None
    if watch.over_limit:
        return _too_large(settings)
    if isinstance(inner, UnsupportedError) or "Unsupported URL" in message:
        return LinkUnsupportedError(message)
    if isinstance(inner, GeoRestrictedError) or _LOGIN.search(message):
        return LinkLoginRequiredError(message)
    if _TIMEOUT.search(message) or time.monotonic() > watch.deadline:
        return LinkTimeoutError(message, params={"limit": settings.import_timeout_sec})
    if _NOT_FOUND.search(message):
        return LinkNotFoundError(message)
    if _UNREACHABLE.search(message):
        return LinkUnreachableError(message)
    return LinkUnsupportedError(message)


def source_of(url: str, choice: Choice, info: dict[str, Any]) -> Source:
    """`result.source` from what the site told (absent figures stay null)."""
    description = _text(info.get("description"))
    tags = [str(t).lstrip("#") for t in info.get("tags") or [] if str(t).strip()]
    tags += _HASHTAG.findall(description or "") + _HASHTAG.findall(_text(info.get("title")) or "")
    hashtags = list(dict.fromkeys(t for t in tags if t))[:50]
    platform = choice.platform
    return Source(
        url=url,
        platform=platform,
        id=_text(info.get("id")) if platform != "web" else None,
        title=_text(info.get("title")),
        uploader=_text(info.get("uploader") or info.get("channel") or info.get("uploader_id")),
        description=description,
        hashtags=hashtags,
        views=_count(info.get("view_count")),
        likes=_count(info.get("like_count")),
        comments=_count(info.get("comment_count")),
        published_at=_published(info),
        fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def _text(value: Any, limit: int = 5000) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text[:limit] or None


def _count(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and value >= 0 else None


def _published(info: dict[str, Any]) -> str | None:
    stamp = info.get("timestamp")
    if isinstance(stamp, int | float) and stamp > 0:
        return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")
    day = info.get("upload_date")
    if isinstance(day, str) and re.fullmatch(r"\d{8}", day):
        return f"{day[:4]}-{day[4:6]}-{day[6:]}"
    return None
