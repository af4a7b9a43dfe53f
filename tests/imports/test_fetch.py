"""The real yt-dlp against a local site (loopback allowed by IMPORT_ALLOW_PRIVATE=true, as the
tests' stand-in for the public internet)."""

from __future__ import annotations

import ipaddress
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from reels_scripter.config import Settings
from reels_scripter.imports import policy
from reels_scripter.imports.downloader import fetch
from reels_scripter.imports.errors import LinkError
from support.reelgen import make_reel
from support.settings import make_settings
from support.video_site import VideoSite


@pytest.fixture
def site() -> Iterator[VideoSite]:
    with VideoSite() as running:
        yield running


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path, IMPORT_ALLOW_PRIVATE=True, IMPORT_STALL_SEC=1.5)


def _fails(url: str, workdir: Path, settings: Settings) -> LinkError:
    with pytest.raises(LinkError) as caught:
        fetch(url, workdir, settings)
    return caught.value


def test_direct_mp4_link(
    site: VideoSite, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a machine without ffmpeg, whatever this one has on its PATH
    monkeypatch.setattr(shutil, "which", lambda name: None)
    reel = make_reel(tmp_path / "src" / "reel.mp4", duration=3.0, audio="tone")
    seen: list[float] = []
    got = fetch(site.add("reel.mp4", reel), tmp_path / "work", settings, on_progress=seen.append)
    assert got.path.read_bytes() == reel.read_bytes()
    assert got.path.parent == tmp_path / "work" and got.path.name == "video.mp4"
    assert got.source.platform == "web" and got.source.url.endswith("/v/reel.mp4")
    assert seen and seen[-1] == 1.0  # real progress from the byte counts
    assert [n.code for n in got.notices] == ["import_single_file"]  # no ffmpeg to merge with


def test_page_with_og_video(site: VideoSite, settings: Settings, tmp_path: Path) -> None:
    reel = make_reel(tmp_path / "src" / "reel.mp4", duration=3.0)
    site.add("reel.mp4", reel)
    got = fetch(site.url("/page/reel.mp4"), tmp_path / "work", settings)
    assert got.path.read_bytes() == reel.read_bytes()
    assert got.source.title == "Как снять рилс за 5 минут #reels #tips"
    assert got.source.hashtags == ["reels", "tips"]
    assert "/v/reel.mp4" in site.requests  # the page, then the video it names


def test_too_long_video_is_refused(site: VideoSite, settings: Settings, tmp_path: Path) -> None:
    """A direct file tells no duration: it arrives, and the probe (as for an upload) refuses it;
    here the downloader's part: the bytes are the file's, for the probe to judge."""
    reel = make_reel(tmp_path / "src" / "long.mp4", duration=200.0, width=64, height=112, fps=5)
    got = fetch(site.add("long.mp4", reel), tmp_path / "work", settings)
    assert got.path.stat().st_size == reel.stat().st_size


def test_body_without_length_is_cut_at_the_limit(
    site: VideoSite, settings: Settings, tmp_path: Path
) -> None:
    error = _fails(site.url("/chunked/150"), tmp_path / "work", settings)
    assert error.code == "link_too_large"
    assert error.params == {"limit_mb": 100}
    # cut at 100 MiB of 150: the server was not read to its end
    assert site.chunks_sent < 150


def test_announced_size_over_the_limit_downloads_nothing(site: VideoSite, tmp_path: Path) -> None:
    reel = make_reel(tmp_path / "src" / "reel.mp4", duration=3.0, noise=True)
    small = make_settings(tmp_path, IMPORT_ALLOW_PRIVATE=True, MAX_FILE_SIZE_MB=1)
    assert reel.stat().st_size > 2**20
    error = _fails(site.add("reel.mp4", reel), tmp_path / "work", small)
    assert error.code == "link_too_large"
    assert not list((tmp_path / "work").glob("video.*"))


def test_not_found(site: VideoSite, settings: Settings, tmp_path: Path) -> None:
    assert _fails(site.url("/gone.mp4"), tmp_path / "work", settings).code == "link_not_found"


def test_stalled_server_times_out(site: VideoSite, settings: Settings, tmp_path: Path) -> None:
    error = _fails(site.url("/stall"), tmp_path / "work", settings)
    assert error.code == "link_timeout"
    assert error.transient


def test_unreachable(settings: Settings, tmp_path: Path) -> None:
    from support.fixtures import free_port

    error = _fails(f"http://127.0.0.1:{free_port()}/reel.mp4", tmp_path / "w", settings)
    assert error.code == "link_unreachable"


@pytest.fixture
def loopback_is_public(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Without IMPORT_ALLOW_PRIVATE, let the local site alone (127.0.0.1) stand in for a public
    host; every other address is judged by the real rule."""
    real = policy.refused_reason
    site_address = ipaddress.ip_address("127.0.0.1")

    def judged(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
        return None if address == site_address else real(address)

    def apply() -> None:
        monkeypatch.setattr(policy, "refused_reason", judged)
        monkeypatch.setattr("reels_scripter.webhooks.destination.refused_reason", judged)

    return apply


@pytest.mark.parametrize("target", ["http://127.0.0.2/x.mp4", "http://169.254.169.254/latest"])
def test_redirect_to_a_private_address_is_refused(
    site: VideoSite, tmp_path: Path, loopback_is_public: Callable[[], None], target: str
) -> None:
    loopback_is_public()
    strict = make_settings(tmp_path, IMPORT_ALLOW_PRIVATE=False, IMPORT_STALL_SEC=1.5)
    error = _fails(site.url(f"/redirect?to={target}"), tmp_path / "work", strict)
    assert error.code == "link_forbidden"
    assert site.requests == [f"/redirect?to={target}"]  # the first hop only


def test_redirect_to_a_private_address_is_followed_with_the_setting(
    site: VideoSite, settings: Settings, tmp_path: Path
) -> None:
    reel = make_reel(tmp_path / "src" / "reel.mp4", duration=3.0)
    target = site.add("reel.mp4", reel)
    got = fetch(site.url(f"/redirect?to={target}"), tmp_path / "work", settings)
    assert got.path.read_bytes() == reel.read_bytes()


def test_cookies_file_is_only_read(site: VideoSite, tmp_path: Path) -> None:
    cookies = tmp_path / "cookies.txt"
    text = "# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tsessionid\tsecret-value\n"
    cookies.write_text(text)
    cookies.chmod(0o444)
    reel = make_reel(tmp_path / "src" / "reel.mp4", duration=3.0)
    settings = make_settings(tmp_path, IMPORT_ALLOW_PRIVATE=True, IMPORT_COOKIES_FILE=cookies)
    fetch(site.add("reel.mp4", reel), tmp_path / "work", settings)
    assert cookies.read_text() == text


def test_with_ffmpeg_no_single_file_notice(
    site: VideoSite, settings: Settings, tmp_path: Path
) -> None:
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    reel = make_reel(tmp_path / "src" / "reel.mp4", duration=2.0, audio="tone")
    with_ffmpeg = settings.model_copy(update={"import_ffmpeg": imageio_ffmpeg.get_ffmpeg_exe()})
    got = fetch(site.add("reel.mp4", reel), tmp_path / "work", with_ffmpeg)
    assert got.notices == []
    assert got.path.read_bytes() == reel.read_bytes()
