"""probe() and sniff() on real files: valid reels in each supported container, and every kind
of bad upload the service must refuse with a typed error and a stable code."""

from __future__ import annotations

import io
import random
import time
from pathlib import Path

import av
import pytest
from typing_extensions import Buffer

from reels_scripter.analysis.errors import (
    AudioOnlyError,
    CorruptVideoError,
    EmptyFileError,
    InputError,
    NotAVideoError,
    NoVideoStreamError,
    ProbeTimeoutError,
    ResolutionTooLargeError,
    TooLargeError,
    TooLongError,
    UnsupportedFormatError,
)
from reels_scripter.analysis.models import AnalysisOptions, ProbeInfo
from reels_scripter.analysis.probe import probe
from reels_scripter.analysis.sniff import sniff
from support.reelgen import ReelSpec, make_audio_only, make_reel

# Tiny pictures keep encoding fast; H.264 wants even sides.
W, H = 64, 112
WEBM = ReelSpec(width=W, height=H, container="webm", codec="libvpx-vp9")

PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def remux(src: av.container.InputContainer, dst: av.container.OutputContainer) -> None:
    """Every stream and packet of `src` into `dst`, nothing decoded."""
    streams = {s.index: dst.add_stream_from_template(s) for s in src.streams}
    for packet in src.demux():
        if packet.dts is None:
            continue
        packet.stream = streams[packet.stream.index]
        dst.mux(packet)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("probe")


@pytest.fixture(scope="module")
def mp4(files: Path) -> Path:
    return make_reel(files / "reel.mp4", duration=2.0, width=W, height=H, fps=15, audio="tone")


@pytest.fixture(scope="module")
def faststart_mp4(files: Path, mp4: Path) -> Path:
    """The same reel with its index (moov) in front, as phones and CDNs write it."""
    out = files / "faststart.mp4"
    with (
        av.open(str(mp4)) as src,
        av.open(str(out), "w", format="mp4", options={"movflags": "faststart"}) as dst,
    ):
        remux(src, dst)
    return out


@pytest.fixture(scope="module")
def webm(files: Path) -> Path:
    return make_reel(files / "reel.webm", WEBM, duration=2.0, fps=15, audio="tone")


@pytest.fixture(scope="module")
def huge(files: Path) -> Path:
    """One 8192x8192 H.264 frame: 67 megapixels, far over any reel."""
    return make_reel(files / "huge.mp4", width=8192, height=8192, duration=0.1, fps=10)


def expect(error: type[InputError], code: str, path: Path, **options: object) -> InputError:
    with pytest.raises(error) as caught:
        probe(path, AnalysisOptions(**options))
    err = caught.value
    assert type(err) is error
    assert err.code == code
    # messages reach end users: one line, plain English, no server paths
    assert err.message and "\n" not in err.message
    assert str(path.parent) not in err.message
    assert "Traceback" not in err.message
    return err


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


# --------------------------------------------------------------------------- sniff


def test_sniff_recognises_supported_containers(mp4: Path, webm: Path, files: Path) -> None:
    mov = make_reel(files / "clip.mov", duration=0.2, width=W, height=H, fps=10, container="mov")
    mkv = make_reel(
        files / "clip.mkv", duration=0.2, width=W, height=H, fps=10, container="matroska"
    )
    assert sniff(mp4.read_bytes()[:64]) == "mp4"
    assert sniff(mov.read_bytes()[:64]) == "mp4"
    assert sniff(webm.read_bytes()[:64]) == "webm"
    assert sniff(mkv.read_bytes()[:64]) == "webm"


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"\x00",
        PNG_1X1,
        b"hello, this is a text file\n",
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",  # a HEIC photo
        b"RIFF\x00\x00\x00\x00AVI LIST",
        b"\x1a\x45\xdf\xa3\x80",  # EBML without a DocType
    ],
)
def test_sniff_rejects_other_content(head: bytes) -> None:
    assert sniff(head) is None


def test_sniff_never_raises_on_junk() -> None:
    rng = random.Random(7)
    for n in range(300):
        head = bytes(rng.getrandbits(8) for _ in range(n % 70))
        # seed some plausible prefixes so the parsers get past their first check
        head = (b"\x00\x00\x00\x10ftyp", b"\x1a\x45\xdf\xa3\x42\x82", b"")[n % 3] + head
        assert sniff(head) in (None, "mp4", "webm")


# --------------------------------------------------------------------------- valid files


def test_mp4_facts(mp4: Path) -> None:
    info = probe(mp4)
    assert isinstance(info, ProbeInfo)
    assert info.container == "mp4"
    assert (info.width, info.height) == (W, H)
    assert (info.coded_width, info.coded_height) == (W, H)
    assert info.rotation == 0
    assert info.video_codec == "h264"
    assert info.fps == pytest.approx(15.0, abs=0.01)
    assert info.duration == pytest.approx(2.0, abs=0.1)
    assert info.frame_count == 30
    assert info.variable_frame_rate is False
    assert info.has_audio is True
    assert info.audio_codec == "aac"
    assert info.audio_sample_rate == 48000
    assert info.audio_channels == 1
    assert info.size_bytes == mp4.stat().st_size


def test_faststart_mp4_is_valid(faststart_mp4: Path) -> None:
    info = probe(faststart_mp4)
    assert info.duration == pytest.approx(2.0, abs=0.1)
    assert info.frame_count == 30


def test_mov_facts(files: Path) -> None:
    mov = make_reel(
        files / "quicktime.mov", duration=1.0, width=W, height=H, fps=10, container="mov"
    )
    info = probe(mov)
    assert info.container == "mov"
    assert (info.width, info.height) == (W, H)
    assert info.fps == pytest.approx(10.0, abs=0.01)
    assert info.duration == pytest.approx(1.0, abs=0.1)
    assert info.has_audio is False
    assert info.audio_codec is None


def test_webm_facts(webm: Path) -> None:
    info = probe(webm)
    assert info.container == "webm"
    assert (info.width, info.height) == (W, H)
    assert info.video_codec == "vp9"
    assert info.fps == pytest.approx(15.0, abs=0.01)
    assert info.duration == pytest.approx(2.0, abs=0.1)
    assert info.has_audio is True
    assert info.audio_codec == "opus"
    assert info.variable_frame_rate is False


def test_matroska_that_is_not_webm_is_accepted(files: Path) -> None:
    mkv = make_reel(
        files / "h264.mkv", duration=1.0, width=W, height=H, fps=10, container="matroska"
    )
    info = probe(mkv)
    assert info.container == "matroska"
    assert info.video_codec == "h264"
    assert info.duration == pytest.approx(1.0, abs=0.1)


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotation_sets_display_size(files: Path, rotation: int) -> None:
    path = make_reel(
        files / f"rotated{rotation}.mp4", duration=0.3, width=W, height=H, fps=10, rotation=rotation
    )
    info = probe(path)
    assert info.rotation == rotation
    assert (info.coded_width, info.coded_height) == (W, H)
    assert (info.width, info.height) == ((W, H) if rotation == 180 else (H, W))


def test_webm_without_declared_duration(files: Path, webm: Path) -> None:
    """Browsers' MediaRecorder streams WebM and never goes back to write a Duration: the
    duration then comes from the last packet."""

    class Unseekable(io.RawIOBase):
        def __init__(self) -> None:
            self.data = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, b: Buffer) -> int:
            self.data += b
            return memoryview(b).nbytes

    sink = Unseekable()
    with av.open(str(webm)) as src, av.open(sink, "w", format="webm") as dst:
        remux(src, dst)
    live = write(files / "live.webm", bytes(sink.data))
    with av.open(str(live)) as c:
        assert c.duration is None  # the premise: nothing declared
    info = probe(live)
    assert info.duration == pytest.approx(2.0, abs=0.1)
    assert info.frame_count == 30


def test_variable_frame_rate_is_detected(files: Path) -> None:
    path = make_reel(files / "vfr.mp4", duration=2.0, width=W, height=H, vfr=True)
    info = probe(path)
    assert info.variable_frame_rate is True
    assert info.duration == pytest.approx(2.0, abs=0.1)


def test_constant_frame_rate_is_not_flagged(mp4: Path, files: Path) -> None:
    assert probe(mp4).variable_frame_rate is False
    # a millisecond clock rounds 1/30 s to 33 or 34 ms: that is still constant
    path = make_reel(files / "cfr_ms.webm", WEBM, duration=1.0, fps=30)
    assert probe(path).variable_frame_rate is False


def test_extension_does_not_matter(mp4: Path, files: Path) -> None:
    renamed = write(files / "clip.txt", mp4.read_bytes())
    assert probe(renamed).container == "mp4"


# --------------------------------------------------------------------------- bad input


def test_empty_file(files: Path) -> None:
    expect(EmptyFileError, "empty_file", write(files / "empty.mp4", b""))


def test_missing_file_or_directory(files: Path) -> None:
    expect(InputError, "invalid_video", files / "does-not-exist.mp4")
    folder = files / "folder.mp4"
    folder.mkdir()
    expect(InputError, "invalid_video", folder)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("notes.mp4", b"This is not a video, just some text.\n" * 20),
        ("picture.mp4", PNG_1X1),
        ("noise.mp4", random.Random(1).randbytes(4096)),
        ("photo.heic", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(100)),
    ],
)
def test_not_a_video(files: Path, name: str, data: bytes) -> None:
    expect(NotAVideoError, "not_a_video", write(files / name, data))


def test_png_named_mp4_says_it_is_an_image(files: Path) -> None:
    err = expect(NotAVideoError, "not_a_video", write(files / "photo.mp4", PNG_1X1))
    assert "PNG" in err.message


def test_audio_only(files: Path) -> None:
    path = make_audio_only(files / "voice.mp4", duration=0.5)
    err = expect(AudioOnlyError, "audio_only", path)
    assert isinstance(err, NoVideoStreamError)


def test_mp3_is_audio_only(files: Path) -> None:
    path = write(files / "song.mp4", b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(500))
    err = expect(AudioOnlyError, "audio_only", path)
    assert "MP3" in err.message


def test_supported_container_without_any_video(files: Path) -> None:
    srt = files / "subs.srt"
    srt.write_text("1\n00:00:00,000 --> 00:00:01,000\nhello\n", encoding="utf-8")
    out = files / "subtitles_only.mkv"
    with av.open(str(srt)) as src, av.open(str(out), "w", format="matroska") as dst:
        stream = dst.add_stream_from_template(src.streams[0])
        for packet in src.demux():
            if packet.dts is None:
                continue
            packet.stream = stream
            dst.mux(packet)
    expect(NoVideoStreamError, "no_video_stream", out)


@pytest.mark.parametrize(
    ("container", "codec", "label"),
    [("avi", "mpeg4", "AVI"), ("flv", "libx264", "FLV"), ("mpegts", "libx264", "MPEG-TS")],
)
def test_unsupported_containers(files: Path, container: str, codec: str, label: str) -> None:
    path = make_reel(
        files / f"clip.{container}.mp4",  # the name lies on purpose
        duration=0.3,
        width=W,
        height=H,
        fps=10,
        container=container,
        codec=codec,
    )
    err = expect(UnsupportedFormatError, "unsupported_format", path)
    assert label in err.message
    assert err.http_status == 415


def test_junk_behind_a_valid_ftyp(files: Path, mp4: Path) -> None:
    data = mp4.read_bytes()[:32] + random.Random(2).randbytes(8000)
    expect(CorruptVideoError, "corrupt_video", write(files / "junk.mp4", data))


def test_mp4_cut_in_half(files: Path, mp4: Path) -> None:
    data = mp4.read_bytes()
    expect(CorruptVideoError, "corrupt_video", write(files / "half.mp4", data[: len(data) // 2]))


def test_faststart_mp4_cut_short(files: Path, faststart_mp4: Path) -> None:
    """The index is intact and promises frames the file no longer holds: opens fine, yet
    must be refused."""
    data = faststart_mp4.read_bytes()
    for fraction in (0.5, 0.9, 0.99):
        cut = write(files / f"faststart_{fraction}.mp4", data[: int(len(data) * fraction)])
        expect(CorruptVideoError, "corrupt_video", cut)


def test_webm_cut_in_half(files: Path, webm: Path) -> None:
    data = webm.read_bytes()
    expect(CorruptVideoError, "corrupt_video", write(files / "half.webm", data[: len(data) // 2]))


def test_first_frame_undecodable(files: Path, faststart_mp4: Path) -> None:
    with av.open(str(faststart_mp4)) as c:
        first = next(p for p in c.demux(video=0) if p.size)
        assert first.pos is not None
        pos, size = first.pos, first.size
    data = bytearray(faststart_mp4.read_bytes())
    # keep the 4-byte NAL length so the demuxer still hands the packet over whole
    data[pos + 4 : pos + size] = random.Random(3).randbytes(size - 4)
    expect(CorruptVideoError, "corrupt_video", write(files / "bad_frame.mp4", bytes(data)))


def test_too_long(files: Path) -> None:
    path = make_reel(files / "long.mp4", duration=4.0, width=W, height=H, fps=5)
    err = expect(TooLongError, "too_long", path, max_duration=2.0)
    assert "4.0 s" in err.message
    assert "2.0 s" in err.message
    assert probe(path, AnalysisOptions(max_duration=5.0)).duration == pytest.approx(4.0, abs=0.1)


def test_too_large(mp4: Path) -> None:
    size = mp4.stat().st_size
    err = expect(TooLargeError, "too_large", mp4, max_size_bytes=size - 1)
    assert err.http_status == 413
    assert "KB" in err.message
    assert probe(mp4, AnalysisOptions(max_size_bytes=size)).size_bytes == size


def test_huge_resolution_refused_from_header(huge: Path) -> None:
    # 200 MB of address space cannot hold a decoded 8192x8192 picture next to the decoder's
    # own buffers, so getting ResolutionTooLargeError under it shows nothing was decoded.
    started = time.perf_counter()
    err = expect(ResolutionTooLargeError, "resolution_too_large", huge, probe_memory_mb=200)
    elapsed = time.perf_counter() - started
    assert "8192x8192" in err.message
    assert elapsed < 3.0


def test_memory_limit_stops_a_decode_that_needs_too_much(huge: Path) -> None:
    """With the pixel limit lifted, decoding the same frame under the same address-space
    limit must fail cleanly in the child, not take the caller down."""
    expect(CorruptVideoError, "corrupt_video", huge, max_pixels=10**9, probe_memory_mb=200)


def test_probe_timeout(mp4: Path) -> None:
    err = expect(ProbeTimeoutError, "probe_timeout", mp4, probe_timeout=0.01)
    assert "0.01 s" in err.message


def test_random_bytes_behind_a_webm_header(files: Path, webm: Path) -> None:
    data = webm.read_bytes()[:40] + random.Random(4).randbytes(4000)
    expect(CorruptVideoError, "corrupt_video", write(files / "junk.webm", data))
