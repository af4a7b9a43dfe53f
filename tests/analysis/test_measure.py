"""The measurement engine on synthetic reels whose truth is known (see tests/support/reelgen.py)."""

from __future__ import annotations

import hashlib
import math
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import cv2
import imageio_ffmpeg
import numpy as np
import pytest

from reels_scripter.analysis import AnalysisOptions, Measurements, analyze
from reels_scripter.analysis.faces import FaceDetector
from reels_scripter.analysis.pixels import upright
from support.reelgen import SPEECH_TEXT, make_reel, wer, words

NO_SPEECH = AnalysisOptions(transcribe=False)
CUT_TOLERANCE = 0.25
SPEECH_OFFSET = 0.8
SPEECH_END = SPEECH_OFFSET + 19.43  # the sample's last audible sound, measured once


def test_wer_helper() -> None:
    assert wer("Stop scrolling, now.", "stop scrolling now") == 0
    assert wer("a b c d", "a x c") == 0.5


def _assert_cuts(m: Measurements, cuts: tuple[float, ...], duration: float) -> None:
    starts = [s.start for s in m.scenes]
    assert len(m.scenes) == len(cuts) + 1, starts
    assert starts[0] == 0
    for found, truth in zip(starts[1:], cuts, strict=True):
        assert abs(found - truth) <= CUT_TOLERANCE, (starts, cuts)
    for a, b in zip(m.scenes, m.scenes[1:], strict=False):
        assert a.end == b.start
    assert m.scenes[-1].end == pytest.approx(duration, abs=0.1)


@pytest.mark.parametrize(
    ("cuts", "duration", "extra"),
    [
        ((2.0, 4.0), 6.0, {}),
        ((0.8, 1.5, 3.9, 4.4), 6.0, {}),  # short shots, 0.5 s apart
        ((), 3.0, {}),  # one shot, nothing to cut
        ((1.5, 3.0, 4.7), 6.0, {"vfr": True}),
        ((2.0, 4.0), 6.0, {"fps": 24, "extra_options": {"preset": "veryfast"}}),  # B-frames
        ((2.0, 4.0), 6.0, {"container": "webm", "codec": "libvpx-vp9"}),
    ],
    ids=["two", "short-shots", "none", "vfr", "bframes", "vp9"],
)
def test_hard_cuts(
    tmp_path: Path, cuts: tuple[float, ...], duration: float, extra: dict[str, object]
) -> None:
    path = make_reel(tmp_path / "r.mp4", duration=duration, cuts=cuts, **extra)
    m = analyze(path, NO_SPEECH)
    _assert_cuts(m, cuts, duration)
    for scene in m.scenes:
        assert 0 < scene.brightness < 1
        assert 0 <= scene.motion < 0.2  # a moving bar, no more
        assert scene.keyframe_jpeg is not None
        assert scene.faces == 0 and scene.shot_scale == "unknown"  # no faces in flat colour
    if not FaceDetector.shared().available:  # OpenCV 5 wheels ship no Haar cascades
        assert any(n.code == "faces_unavailable" for n in m.notices)


def test_rotated_reel_is_measured_upright(tmp_path: Path) -> None:
    # Coded landscape, displayed portrait: what a phone held upright writes.
    path = make_reel(tmp_path / "rot.mp4", width=480, height=270, rotation=90, cuts=(2.0, 4.0))
    m = analyze(path, NO_SPEECH)
    _assert_cuts(m, (2.0, 4.0), 6.0)
    for scene in m.scenes:
        assert scene.keyframe_jpeg is not None and scene.keyframe_jpeg[:2] == b"\xff\xd8"
        image = cv2.imdecode(np.frombuffer(scene.keyframe_jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert image is not None
        h, w = image.shape[:2]
        assert h > w  # portrait, as displayed
        assert w == 270  # never scaled up past the display width
        # The coded frame has a vertical moving bar; shown upright it runs across the width.
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(float)
        assert gray.std(axis=1).mean() < gray.std(axis=0).mean()


@pytest.mark.parametrize("rotation", [90, 270, 180])
def test_upright_matches_ffmpeg_autorotate(tmp_path: Path, rotation: int) -> None:
    """Our rotation direction is the one players use: compare with FFmpeg's autorotate."""
    path = tmp_path / f"marker{rotation}.mp4"
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=10)
        vs.width, vs.height, vs.pix_fmt = 96, 64, "yuv420p"
        vs.set_display_rotation(rotation)
        for k in range(3):
            img = np.zeros((64, 96, 3), np.uint8)
            img[:16, :16] = 255  # a marker in the top-left corner
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts, frame.time_base = k, Fraction(1, 10)
            for packet in vs.encode(frame):
                out.mux(packet)
        for packet in vs.encode():
            out.mux(packet)
    with av.open(str(path)) as c:
        frame = next(c.decode(video=0))
        ours = upright(frame.to_ndarray(format="gray"), frame.rotation)
    ffmpeg = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-frames:v", "1"]
    raw = subprocess.run(
        [*ffmpeg, "-f", "rawvideo", "-pix_fmt", "gray", "-"], check=True, capture_output=True
    ).stdout
    theirs = np.frombuffer(raw, np.uint8).reshape(ours.shape)
    assert np.abs(ours.astype(int) - theirs.astype(int)).mean() < 8


# --- one speech reel, analysed once for every speech test ---------------------------------


# the reel, its measurements, and the (stage, fraction) progress calls made on the way
SpeechReel = tuple[Path, Measurements, list[tuple[str, float]]]


@pytest.fixture(scope="module")
def speech_reel(tmp_path_factory: pytest.TempPathFactory) -> SpeechReel:
    path = make_reel(
        tmp_path_factory.mktemp("speech") / "speech.mp4",
        duration=22.0,
        cuts=(2.0, 9.0, 15.0),
        audio="speech",
        speech_offset=SPEECH_OFFSET,
    )
    calls: list[tuple[str, float]] = []
    m = analyze(path, progress=lambda stage, f: calls.append((stage, f)))
    return path, m, calls


def test_speech_transcript(speech_reel: SpeechReel) -> None:
    _, m, _ = speech_reel
    t = m.transcript
    assert t.language == "en"
    # base transcribes English too where it is installed (speech_policy: tiny.en misheard
    # plain words), and the bundled models are installed here
    assert t.model is not None and "English-only" not in t.model
    assert wer(SPEECH_TEXT, t.text) <= 0.15, t.text
    timed = [w for s in t.segments for w in s.words or []]
    assert len(timed) >= 40
    for w in timed:
        assert SPEECH_OFFSET - 0.3 <= w.start <= w.end <= SPEECH_END + 0.3
    starts = [w.start for w in timed]
    assert starts == sorted(starts)


def test_speech_reel_facts(speech_reel: SpeechReel) -> None:
    path, m, calls = speech_reel
    assert m.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    _assert_cuts(m, (2.0, 9.0, 15.0), 22.0)
    a = m.audio
    assert a.has_audio and not a.music and a.tempo_bpm is None
    assert 0.75 <= a.speech_share <= 0.95
    assert a.loudness_lufs is not None and -40 < a.loudness_lufs < -5
    assert len(a.loudness_curve) == math.ceil(m.duration / a.curve_step)
    assert a.loudness_curve[0] < -60  # the reel opens with 0.8 s of silence
    h = m.hook
    assert h.first_word_at == pytest.approx(SPEECH_OFFSET, abs=0.2)
    assert words(h.first_words)[:2] == ["stop", "scrolling"]
    assert h.cuts == 1
    assert h.words_per_minute is not None and 100 < h.words_per_minute < 220
    assert h.loudness_db is not None and h.loudness_db < -10
    for stage in ("probe", "video", "speech", "audio"):
        assert stage in m.timings
        fractions = [f for s, f in calls if s == stage]
        assert fractions == sorted(fractions) and fractions[-1] == 1.0, stage


# --- audio without speech ------------------------------------------------------------------


@pytest.mark.parametrize(("audio", "bpm"), [("clicks", 120.0), ("clicks", 90.0), ("tone", None)])
def test_no_words_on_music_or_tones(tmp_path: Path, audio: str, bpm: float | None) -> None:
    path = make_reel(tmp_path / "m.mp4", duration=8.0, audio=audio, bpm=bpm or 120.0)
    m = analyze(path)
    assert m.transcript.segments == [] and m.transcript.language is None
    assert m.audio.speech_share == 0
    assert m.hook.first_word_at is None and m.hook.words_per_minute is None
    if bpm is None:
        assert not m.audio.music
    else:
        assert m.audio.music and m.audio.music_confidence >= 0.5
        assert m.audio.tempo_bpm is not None and abs(m.audio.tempo_bpm - bpm) <= 3


def test_music_under_speech(tmp_path: Path) -> None:
    path = make_reel(tmp_path / "sc.mp4", duration=21.0, audio="speech+clicks", bpm=100)
    m = analyze(path)
    assert m.audio.music
    assert m.audio.tempo_bpm is not None and abs(m.audio.tempo_bpm - 100) <= 3
    assert wer(SPEECH_TEXT, m.transcript.text) <= 0.15
    # The beat starts at 0 s, the voice at 0.5 s: the first word must not snap to a kick.
    assert m.hook.first_word_at == pytest.approx(0.5, abs=0.2)


def test_silence(tmp_path: Path) -> None:
    m = analyze(make_reel(tmp_path / "s.mp4", duration=4.0, audio="silence"))
    assert m.audio.has_audio and not m.audio.music
    assert m.audio.loudness_lufs is None
    assert all(v <= -80 for v in m.audio.loudness_curve)
    assert m.transcript.segments == [] and m.transcript.language is None


def test_video_without_audio_stream(tmp_path: Path) -> None:
    m = analyze(make_reel(tmp_path / "v.mp4", duration=3.0, audio="none", cuts=(1.5,)))
    assert not m.audio.has_audio and m.audio.loudness_curve == []
    assert m.transcript.segments == [] and m.transcript.language is None
    assert m.hook.loudness_db is None
    assert len(m.scenes) == 2
