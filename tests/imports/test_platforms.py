"""Extractor choice on the four platforms' URL shapes, without network."""

from __future__ import annotations

from typing import Any

import pytest

from reels_scripter.imports import downloader
from reels_scripter.imports.errors import LinkUnsupportedError
from reels_scripter.imports.platforms import canonical_url, choose, source_key


@pytest.mark.parametrize(
    ("url", "extractor", "platform", "key"),
    [
        (
            "https://www.instagram.com/reel/C1a2B3c4D5e/",
            "Instagram",
            "instagram",
            "instagram:C1a2B3c4D5e",
        ),
        (
            "https://instagram.com/reels/C1a2B3c4D5e/?igsh=abc",
            "Instagram",
            "instagram",
            "instagram:C1a2B3c4D5e",
        ),
        (
            "https://www.tiktok.com/@some.user/video/7301234567890123456?lang=en",
            "TikTok",
            "tiktok",
            "tiktok:7301234567890123456",
        ),
        # a short link names no video id: the key comes from the link until it is fetched
        ("https://vm.tiktok.com/ZMabc123/", "TikTokVM", "tiktok", None),
        (
            "https://www.youtube.com/shorts/dQw4w9WgXcQ",
            "Youtube",
            "youtube",
            "youtube:dQw4w9WgXcQ",
        ),
        (
            "https://youtube.com/shorts/dQw4w9WgXcQ?si=share",
            "Youtube",
            "youtube",
            "youtube:dQw4w9WgXcQ",
        ),
        ("https://vk.com/clip-12345678_456239017", "VK", "vk", "vk:-12345678_456239017"),
        (
            "https://vk.com/clips-74006511?z=clip-74006511_456247211",
            "VK",
            "vk",
            "vk:-74006511_456247211",
        ),
        ("https://example.com/reel.mp4", "Generic", "web", None),
        ("https://blog.example.org/post/42", "Generic", "web", None),
    ],
)
def test_extractor_by_url_shape(url: str, extractor: str, platform: str, key: str | None) -> None:
    choice = choose(url)
    assert (choice.extractor, choice.platform, choice.key) == (extractor, platform, key)


def test_source_key_falls_back_to_the_canonical_url() -> None:
    assert source_key("HTTPS://Example.COM:443/a/reel.mp4?x=1#t=3") == (
        "url:https://example.com/a/reel.mp4?x=1"
    )
    assert canonical_url("http://example.com:8080") == "http://example.com:8080/"
    assert source_key("https://www.youtube.com/shorts/dQw4w9WgXcQ") == "youtube:dQw4w9WgXcQ"


def _formats_info(*formats: dict[str, object]) -> dict[str, object]:
    return {
        "id": "x",
        "title": "x",
        "extractor": "generic",
        "extractor_key": "Generic",
        "webpage_url": "http://example.com/",
        "formats": list(formats),
    }


HLS = {
    "format_id": "hls",
    "url": "http://example.com/a.m3u8",
    "protocol": "m3u8_native",
    "ext": "mp4",
    "height": 1080,
    "vcodec": "avc1",
    "acodec": "mp4a",
}
MP4 = {
    "format_id": "mp4",
    "url": "http://example.com/a.mp4",
    "protocol": "https",
    "ext": "mp4",
    "height": 480,
    "vcodec": "avc1",
    "acodec": "mp4a",
}


@pytest.mark.parametrize("selector", [downloader.SINGLE_FORMAT, downloader.MERGED_FORMAT])
def test_only_plain_http_formats_are_downloaded(selector: str) -> None:
    # HLS may be handed to the ffmpeg program, whose connections the address guard never sees:
    # a better HLS rendition loses to a plain HTTPS file, and HLS alone is refused.
    from yt_dlp import YoutubeDL
    from yt_dlp.utils import ExtractorError

    with YoutubeDL({"format": selector, "quiet": True, "no_warnings": True}) as ydl:
        chosen = ydl.process_ie_result(_formats_info(HLS, MP4), download=False)
        assert chosen["format_id"] == "mp4"
        with pytest.raises(ExtractorError, match="format is not available"):
            ydl.process_ie_result(_formats_info(HLS), download=False)


def test_a_live_stream_is_refused_before_download(settings_factory: Any) -> None:
    with pytest.raises(LinkUnsupportedError):
        downloader._check_metadata({"is_live": True, "duration": 10}, settings_factory())


def test_a_long_key_fits_its_column_without_merging_two_links() -> None:
    # An extractor's id pattern has no length limit: a 600-character id gave a 610-character
    # key, over the 400 of jobs.source_key (a DataError, so a 500, on PostgreSQL); and a cut
    # at 400 made two links that share their first 400 characters one video.
    first = source_key("https://www.instagram.com/reel/" + "A" * 600)
    second = source_key("https://www.instagram.com/reel/" + "A" * 599 + "B")
    assert len(first) <= 400 and len(second) <= 400
    assert first != second
    long_url = "https://cdn.example.com/v.mp4?sig=" + "x" * 500
    assert source_key(long_url) != source_key(long_url + "y")
    assert source_key("https://www.instagram.com/reel/ABC/") == "instagram:ABC"
