"""The take-away renderers as pure functions: subtitles (SRT, WebVTT) and the DOCX script."""

from __future__ import annotations

import io
import re

import pytest
import srt
import webvtt
from docx import Document
from docx.enum.section import WD_ORIENT

from reels_scripter.analysis.models import SpeechSegment, Word
from reels_scripter.compose import compose_result
from reels_scripter.config import Settings
from reels_scripter.contract import AnalysisResult
from reels_scripter.providers.base import WriteRequest
from reels_scripter.providers.local import LocalProvider
from reels_scripter.render.docx import render_docx
from reels_scripter.render.subtitles import (
    NoSubtitlesError,
    NoTranslationError,
    cues_for,
    has_translation,
    join_words,
    original_cues,
    render_srt,
    render_vtt,
    spoken_runs,
    wrap,
)
from reels_scripter.rows import plan_rows
from support.factories import measurements, segment, words_of
from support.reelgen import FACE_PHOTO
from support.subtitles import assert_cue_rules

LONG_SPEECH = (
    "Stop scrolling. Here are three simple tricks to film better video with your phone, "
    "and none of them needs a new camera. First, always shoot near a window; daylight is "
    "free and soft. Second, lock the exposure before you press record! Third?"
)


def result_of(segments: list[SpeechSegment], cuts: list[float], duration: float) -> AnalysisResult:
    m = measurements(cuts=cuts, duration=duration, segments=segments)
    rows = plan_rows(m)
    creative = LocalProvider.from_settings(Settings()).write(
        WriteRequest(measurements=m, rows=rows, video_path="x.mp4")
    )
    return compose_result(m, rows, creative, provider="local", target_language="ru")


def parsed_srt(text: str) -> list[tuple[float, float, str]]:
    return [(c.start.total_seconds(), c.end.total_seconds(), c.content) for c in srt.parse(text)]


def parsed_vtt(text: str) -> list[tuple[float, float, str]]:
    def seconds(stamp: str) -> float:
        h, m, s = stamp.split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)

    captions = webvtt.from_buffer(io.StringIO(text)).captions
    return [(seconds(c.start), seconds(c.end), c.text) for c in captions]


def words(text: str) -> list[str]:
    return re.findall(r"[\w'-]+", text.lower())


def test_original_cues_obey_the_rules_and_keep_every_word() -> None:
    result = result_of([segment(LONG_SPEECH, 0.4, step=0.32)], cuts=[3.0, 7.0], duration=16.0)
    for text in (render_srt(result), render_vtt(result)):
        cues = parsed_srt(text) if not text.startswith("WEBVTT") else parsed_vtt(text)
        assert_cue_rules(cues)
        assert words(" ".join(c[2] for c in cues)) == words(LONG_SPEECH)


def test_cues_break_at_sentence_ends() -> None:
    result = result_of([segment(LONG_SPEECH, 0.4, step=0.32)], cuts=[], duration=16.0)
    texts = [c.text.replace("\n", " ") for c in cues_for(result, "original")]
    assert texts[0] == "Stop scrolling."
    # no cue runs on past a sentence end into the next sentence when it could have stopped
    for text in texts:
        assert not re.search(r"[.!?]\s+\S.*[.!?]$", text) or len(text) <= 42, text
    assert any(t.startswith("First,") for t in texts)
    assert texts[-1].endswith("Third?")


def test_word_pieces_are_joined_like_words() -> None:
    assert join_words(["I", "am", "ill", "-disposed", ",", "aren", "'t", "you", "?"]) == (
        "I am ill-disposed, aren't you?"
    )


def test_a_long_pause_ends_a_cue() -> None:
    first = words_of("one two three", 0.5)
    later = words_of("four five six", 5.0)
    seg = SpeechSegment(start=0.5, end=6.0, text="one two three four five six", words=first + later)
    result = result_of([seg], cuts=[], duration=8.0)
    texts = [c.text for c in cues_for(result, "original")]
    assert texts == ["one two three", "four five six"]


def test_fast_speech_still_gets_a_second_per_cue_without_overlaps() -> None:
    # a rapid-fire list: sentences of one word, 0.15 s apart
    tokens = [f"Word{i}." for i in range(30)]
    ws = [Word(start=0.2 + i * 0.15, end=0.3 + i * 0.15, text=t) for i, t in enumerate(tokens)]
    seg = SpeechSegment(start=ws[0].start, end=ws[-1].end, text=" ".join(tokens), words=ws)
    result = result_of([seg], cuts=[], duration=6.0)
    cues = parsed_srt(render_srt(result))
    assert_cue_rules(cues)
    assert words(" ".join(c[2] for c in cues)) == words(" ".join(tokens))


def test_an_overlong_word_is_cut_to_fit_a_line() -> None:
    url = "https://example.com/" + "a" * 90
    seg = SpeechSegment(start=0.5, end=3.0, text=f"visit {url} now", words=None)
    result = result_of([seg], cuts=[], duration=4.0)
    assert_cue_rules(parsed_vtt(render_vtt(result)))


def test_speech_without_word_timings_shares_the_segment_time() -> None:
    seg = SpeechSegment(start=1.0, end=9.0, text=LONG_SPEECH, words=None)
    result = result_of([seg], cuts=[], duration=10.0)
    cues = parsed_srt(render_srt(result))
    assert_cue_rules(cues)
    # the segment's time, shared by length; a short first sentence may start a little early
    # (in the silence before) rather than flash by in under a second
    assert 0.4 <= cues[0][0] <= 1.0
    assert cues[-1][1] == pytest.approx(9.0)
    assert words(" ".join(c[2] for c in cues)) == words(LONG_SPEECH)


def translated(result: AnalysisResult) -> AnalysisResult:
    """The result as a translating writer returns it: a Russian translation of the speech."""
    result.original.translation = "Хватит листать. Вот три простых приёма."
    for row in result.script:
        row.text_language = None
    return result


def within_spoken(cues: list[tuple[float, float, str]], runs: list[tuple[float, float]]) -> None:
    for start, end, text in cues:
        assert any(s - 0.3 <= start and end <= e + 0.3 for s, e in runs), (start, end, text, runs)


def test_translation_track_follows_the_speech_within_rows_and_skips_directions() -> None:
    # speech 0.4-5.2 s, then silence to 9 s, then one short line at 9.0-9.9 s
    result = result_of(
        [segment(LONG_SPEECH[:80], 0.4, step=0.32), segment("See you soon.", 9.0, step=0.3)],
        cuts=[4.0, 8.0],
        duration=16.0,
    )
    translated(result)
    rows = result.script
    rows[0].text = "Хватит листать. Вот три простых приёма, чтобы снимать телефоном лучше."
    rows[1].text = "(без текста — говорит картинка)"
    rows[-1].text = "До скорой встречи."
    cues = parsed_vtt(render_vtt(result, "translation"))
    assert_cue_rules(cues)
    runs = spoken_runs(result)
    within_spoken(cues, runs)
    assert words(" ".join(c[2] for c in cues)) == words(f"{rows[0].text} {rows[-1].text}")
    # the short line is shown when it is said, not over its whole row
    last = cues[-1]
    assert last[0] == pytest.approx(9.0, abs=0.3) and last[1] <= 9.9 + 0.3
    row1 = rows[1]
    assert not any(row1.start <= c[0] < row1.end for c in cues)  # the direction is not shown


def test_no_translation_no_translation_track() -> None:
    result = result_of([segment(LONG_SPEECH, 0.4, step=0.32)], cuts=[4.0, 8.0], duration=16.0)
    assert result.original.translation == ""  # offline: no translator
    assert not has_translation(result)
    with pytest.raises(NoTranslationError):
        cues_for(result, "translation")
    # Russian speech is not translated either, whatever `translation` holds
    translated(result)
    assert has_translation(result)
    result.original.language = "ru"
    result.meta.source_language = "ru"
    assert not has_translation(result)


def test_silence_has_no_subtitles() -> None:
    result = result_of([], cuts=[3.0], duration=6.0)
    with pytest.raises(NoSubtitlesError):
        cues_for(result, "original")
    with pytest.raises(NoTranslationError):  # nothing said, nothing translated
        cues_for(result, "translation")


def test_wrap_balances_two_lines() -> None:
    lines = wrap("Here are three simple tricks to film better video with your phone.")
    assert lines is not None and len(lines) == 2
    assert abs(len(lines[0]) - len(lines[1])) < 12
    assert wrap("x" * 43) is None


def test_docx_script_has_a_picture_where_there_is_a_keyframe() -> None:
    result = result_of([segment(LONG_SPEECH, 0.4, step=0.32)], cuts=[4.0, 8.0], duration=16.0)
    result.meta.warnings = ["Перевод выполнен локально."]
    photo = FACE_PHOTO.read_bytes()
    data = render_docx(result, {result.script[0].scene: photo}, title="Мой ролик.mp4")
    doc = Document(io.BytesIO(data))
    assert doc.sections[0].orientation == WD_ORIENT.LANDSCAPE
    # the file's properties name the reel and the product, not python-docx
    assert doc.core_properties.title == "Мой ролик"
    assert doc.core_properties.author == "Reels Scripter"
    assert (
        "python-docx"
        not in f"{doc.core_properties.comments} {doc.core_properties.last_modified_by}"
    )
    table = doc.tables[0]
    assert len(table.rows) == len(result.script) + 1
    assert len(doc.inline_shapes) == 1
    assert table.rows[2].cells[1].text == "—"  # no picture for that scene
    assert table.rows[1].cells[0].text.endswith("с")
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Мой ролик.mp4" in text
    assert "Перевод выполнен локально." in text
    assert all(key.title in text for key in result.keys)
    assert all(rec.text in text for rec in result.recommendations)


def test_markdown_and_docx_name_the_hook_type_in_russian() -> None:
    from reels_scripter.contract import HookType
    from reels_scripter.render.markdown import render_markdown

    result = result_of([segment("Do you know why?", 0.2)], cuts=[4.0], duration=8.0)
    result.hook_type = HookType(type="open_question", payoff_at=2.5, evidence="вопрос в начале")
    markdown = render_markdown(result)
    assert "**Тип хука:** Открытый вопрос. Развязка — на 2,5\xa0с. Вопрос в начале" in markdown
    doc = Document(io.BytesIO(render_docx(result, {})))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Тип хука: Открытый вопрос. Развязка — на 2,5\xa0с." in text


def test_an_empty_offline_translation_is_said_to_be_missing_in_markdown_and_docx() -> None:
    from reels_scripter.render.markdown import render_markdown, translation_text

    result = result_of([segment("Hola a todos.", 0.5)], [3.0], 6.0)
    assert result.original.translation == ""  # the local provider, offline
    untranslated = result.model_copy(
        update={
            "original": result.original.model_copy(
                update={"translation": "", "transcription": "Hola a todos.", "language": "es"}
            )
        }
    )
    assert translation_text(untranslated).startswith("нет — ИИ не подключён")
    assert "**Перевод:** нет — ИИ не подключён" in render_markdown(untranslated)
    assert "## Предупреждения" in render_markdown(untranslated)
    assert "Перевода нет: ИИ не подключён" in render_markdown(untranslated)
    silent = untranslated.model_copy(
        update={"original": untranslated.original.model_copy(update={"transcription": ""})}
    )
    assert translation_text(silent) == "—"


def test_subtitles_join_pieces_the_recogniser_wrote_without_a_space() -> None:
    words = [
        Word(start=0.5, end=0.8, text="Reels"),
        Word(start=0.8, end=1.1, text="cript", joined=True),
        Word(start=1.1, end=1.4, text="is"),
        Word(start=1.4, end=1.7, text="cold"),
        Word(start=1.7, end=2.0, text="-hearted.", joined=True),
    ]
    seg = SpeechSegment(start=0.5, end=2.0, text="Reelscript is cold-hearted.", words=words)
    cues = original_cues(result_of([seg], [], 4.0))
    assert [c.text for c in cues] == ["Reelscript is cold-hearted."]
