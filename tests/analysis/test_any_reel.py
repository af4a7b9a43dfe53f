"""`analyze` end to end on reels whose truth is known: speech in any language, voice activity,
on-screen text, R 128 loudness, camera and colours per shot, and the script rows built on them.

Each reel is analysed once per module; the assertions read the measurements (and, where the
issue is what a person reads, the composed result of the offline pipeline).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.test_loudness import ffmpeg_ebur128
from reels_scripter.analysis import AnalysisOptions, Measurements, analyze
from reels_scripter.analysis.models import join_words
from reels_scripter.analysis.speech import load_model, resolve_model, transcribe
from reels_scripter.analysis.whisper_base import package_files
from reels_scripter.compose import compose_result
from reels_scripter.config import Settings
from reels_scripter.contract import AnalysisResult
from reels_scripter.providers.base import WriteRequest
from reels_scripter.providers.local import LocalProvider
from reels_scripter.rows import MAX_ROW_SEC, plan_rows
from support.reelgen import SPEECH_TEXTS, espeak, make_reel, make_spoken_reel, wer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(package_files() is None, reason="offline-models extra not installed"),
]


def _options(tmp: Path, **kw: object) -> AnalysisOptions:
    return AnalysisOptions(model_cache_dir=tmp / "models", **kw)


def _offline_result(m: Measurements) -> AnalysisResult:
    rows = plan_rows(m)
    creative = LocalProvider.from_settings(Settings()).write(
        WriteRequest(measurements=m, rows=rows, video_path=Path("x.mp4"))
    )
    return compose_result(m, rows, creative, provider="local", target_language="ru")


# --- a Spanish reel: pan, a caption in the hook, stereo 44.1 kHz speech -------------------

CAPTION = "3 TRICKS"


@pytest.fixture(scope="module")
def spanish(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Measurements]:
    tmp = tmp_path_factory.mktemp("es")
    path = make_spoken_reel(
        tmp / "es.mp4",
        "es",
        duration=26.0,
        width=360,
        height=640,
        camera="pan",
        audio_channels=2,
        audio_rate=44100,
        captions=[(0.5, 2.5, CAPTION)],
    )
    return path, analyze(path, _options(tmp))


def test_spanish_speech_is_identified_and_transcribed_offline(
    spanish: tuple[Path, Measurements],
) -> None:
    _, m = spanish
    t = m.transcript
    assert t.language == "es"
    assert t.language_probability is not None and t.language_probability >= 0.8
    assert t.model == "base"
    assert wer(SPEECH_TEXTS["es"], t.text) <= 0.35, t.text
    assert m.audio.speech_share >= 0.5 and m.audio.untranscribed_speech_sec < 1.5
    assert not any(n.code == "speech_not_transcribed" for n in m.notices)
    result = _offline_result(m)
    assert result.original.language == "es" and result.meta.source_language_probability
    assert result.original.translation == ""  # no offline translator: empty, never Spanish
    spoken_rows = [r for r in result.script if r.text_language == "es"]
    assert spoken_rows and all(r.text.startswith("[испанский, без перевода] ") for r in spoken_rows)
    assert any(w.startswith("Перевода нет: ИИ не подключён") for w in result.meta.warnings)


def test_caption_in_the_first_three_seconds_is_found_with_its_time(
    spanish: tuple[Path, Measurements],
) -> None:
    _, m = spanish
    [span] = [s for s in m.onscreen_text if s.text == CAPTION]
    assert span.start == pytest.approx(0.5, abs=0.3)
    assert span.end == pytest.approx(2.5, abs=0.3)
    assert [s.text for s in m.hook.onscreen_text] == [CAPTION]
    assert m.scenes[0].onscreen_text == [CAPTION]
    result = _offline_result(m)
    assert result.timeline.onscreen_text[0].text == CAPTION
    shown = CAPTION.replace(" ", "\xa0")  # «3 TRICKS»: the figure and its word on one line
    assert f"надпись на экране: «{shown}»" in result.keys[0].evidence


def test_loudness_is_r128_of_the_original_stream(spanish: tuple[Path, Measurements]) -> None:
    path, m = spanish
    integrated, lra, peak = ffmpeg_ebur128(path)
    assert m.audio.loudness_lufs is not None
    assert abs(m.audio.loudness_lufs - integrated) <= 0.5
    assert m.audio.loudness_range_lu is not None and abs(m.audio.loudness_range_lu - lra) <= 1.0
    assert m.audio.true_peak_dbtp is not None and abs(m.audio.true_peak_dbtp - peak) <= 0.5


def test_a_pan_is_classified_and_moving_footage_has_motion(
    spanish: tuple[Path, Measurements],
) -> None:
    _, m = spanish
    [scene] = m.scenes
    assert scene.camera is not None and scene.camera.move == "pan"
    assert scene.camera.changed > 0.05  # the picture moves: not "0% motion"
    assert scene.colours
    visual = _offline_result(m).script[0].visual
    assert "панорамирует" in visual


# --- a still, silent shot ----------------------------------------------------------------


def test_a_long_silent_still_shot_gets_rows_within_the_limit(tmp_path: Path) -> None:
    path = make_reel(
        tmp_path / "still.mp4",
        duration=24.0,
        cuts=(),
        width=270,
        height=480,
        camera="static",
        audio="silence",
    )
    m = analyze(path, _options(tmp_path))
    [scene] = m.scenes
    assert scene.camera is not None and scene.camera.move == "static"
    assert m.audio.speech_share == 0 and m.transcript.segments == []
    rows = plan_rows(m)
    assert len(rows) >= 3 and all(r.end - r.start <= MAX_ROW_SEC for r in rows)
    assert rows[0].start == 0 and rows[-1].end == pytest.approx(24.0, abs=0.1)
    result = _offline_result(m)
    assert "Камера неподвижна" in result.script[0].visual
    assert result.keys[2].title == "Подача без слов"


# --- speech the model cannot read --------------------------------------------------------


def test_speech_present_but_untranscribed_is_reported_never_as_no_speech(tmp_path: Path) -> None:
    text = (
        "Deja de deslizar. Hoy te enseño tres trucos sencillos para grabar mejores "
        "videos con tu teléfono."
    )
    path = make_spoken_reel(tmp_path / "es.mp4", "es", text, duration=12.0, cuts=(6.0,))
    # An English-only model configured for Spanish speech: heard, not understood.
    english_only = resolve_model(None).source
    m = analyze(path, _options(tmp_path, whisper_model=english_only))
    assert m.audio.speech_share >= 0.3
    assert m.audio.untranscribed_speech_sec >= 1.5
    [notice] = [n for n in m.notices if n.code == "speech_not_transcribed"]
    assert notice.params["seconds"] > 3
    result = _offline_result(m)
    warning = next(w for w in result.meta.warnings if w.startswith("В ролике звучит речь"))
    assert "не удалось распознать" in warning and "послушайте оригинал" in warning
    assert "WHISPER_MODEL" not in warning  # a setting is no advice to a creator
    said = " ".join(k.title + " " + k.description + " " + " ".join(k.evidence) for k in result.keys)
    assert "нет речи" not in said and "речи не обнаружено" not in said
    assert "речь не распознана" in said.lower()


# --- a hook said three times -------------------------------------------------------------


def test_a_line_said_three_times_stays_three_times(tmp_path: Path) -> None:
    text = "Stop scrolling now. Stop scrolling now. Stop scrolling now. Here are three tricks."
    path = make_spoken_reel(tmp_path / "r.mp4", "en-us", text, duration=12.0)
    m = analyze(path, _options(tmp_path))
    heard = m.transcript.text.lower()
    assert heard.count("stop") == 3, m.transcript.text
    assert heard.count("scrolling") == 3 and "tricks" in heard
    assert m.transcript.model == "base"
    rows = " ".join(r.speech for r in plan_rows(m)).lower()
    assert rows.count("stop") == 3


# --- word pieces ---------------------------------------------------------------------------


def test_word_pieces_rebuild_the_text_as_whisper_wrote_it() -> None:
    text = "He was a cold-hearted and ill-disposed man, wasn't he? Don't ask."
    samples = espeak(text, "en-us", 16000)
    model = load_model(resolve_model(None), 1)
    transcript = transcribe(samples, model, "tiny.en")
    assert transcript.segments
    for segment in transcript.segments:
        assert segment.words
        assert join_words(segment.words) == segment.text
    pieces = [w for s in transcript.segments for w in s.words or []]
    assert any(w.joined for w in pieces), [w.text for w in pieces]
    assert " -" not in join_words(pieces)
