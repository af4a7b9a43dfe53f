"""The Russian a creator reads, checked as an editor reads it.

The local result of several measured reels (speech, no speech, no audio track, music only,
Spanish, 16:9) is rendered the three ways a person reads it: the page's texts (the result JSON's
person-facing strings), DOCX and Markdown. Each is checked for the editor's rules: a decimal
comma, numbers that agree with their nouns (pymorphy3), no developer words, sentence-initial
capitals, one term for one thing and one time format.
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pymorphy3  # type: ignore[import-untyped]
import pytest
from docx import Document

from reels_scripter.analysis.models import Measurements, OnscreenText, SpeechSegment
from reels_scripter.compose import compose_result
from reels_scripter.config import Settings
from reels_scripter.contract import AnalysisResult
from reels_scripter.providers.base import WriteRequest
from reels_scripter.providers.local import LocalProvider
from reels_scripter.render.docx import render_docx
from reels_scripter.render.markdown import render_markdown
from reels_scripter.rows import plan_rows
from reels_scripter.texts import hook_type_label
from support.factories import measurements, segment
from support.reelgen import make_reel

NB = "\xa0"

# --- the reels, as measured ----------------------------------------------------------------


def _speech() -> Measurements:
    m = measurements(
        cuts=[3.0, 6.5, 10.0, 15.0],
        duration=20.0,
        segments=[
            segment("Stop scrolling. Here are three tricks to film better videos.", 0.3),
            segment("First, always shoot near a window for soft light.", 3.4),
            segment("Second, hold the phone at eye level.", 7.0),
            segment("Third, cut every pause.", 10.5),
            segment("Follow for more tips.", 15.2),
        ],
    )
    caption = OnscreenText(start=0.2, end=2.8, text="3 TRICKS")
    scenes = list(m.scenes)
    scenes[0] = scenes[0].model_copy(update={"onscreen_text": ["3 TRICKS"]})
    return m.model_copy(
        update={
            "hook": m.hook.model_copy(update={"onscreen_text": [caption]}),
            "onscreen_text": [caption],
            "scenes": scenes,
            "audio": m.audio.model_copy(
                update={"loudness_lufs": -20.7, "loudness_range_lu": 3.1, "true_peak_dbtp": -1.4}
            ),
        }
    )


def _no_speech() -> Measurements:
    m = measurements(cuts=[2.0, 5.3, 9.0], duration=12.0, music=False)
    return m.model_copy(update={"audio": m.audio.model_copy(update={"loudness_lufs": -23.4})})


def _no_audio() -> Measurements:
    m = measurements(cuts=[4.0, 8.0], duration=12.0, music=False)
    silent = m.audio.model_copy(
        update={"has_audio": False, "loudness_lufs": None, "speech_share": 0.0, "music": False}
    )
    probe = m.probe.model_copy(update={"has_audio": False, "audio_codec": None})
    hook = m.hook.model_copy(update={"loudness_db": None})
    return m.model_copy(update={"audio": silent, "probe": probe, "hook": hook})


def _music_only() -> Measurements:
    return measurements(cuts=[0.8, 1.6, 2.4, 5.1, 7.7], duration=10.0, music=True)


def _spanish() -> Measurements:
    segments: list[SpeechSegment] = [
        segment("Deja de deslizar. Hoy te enseño tres trucos sencillos.", 0.4),
        segment("Primero, graba siempre cerca de una ventana.", 4.2),
        segment("Sígueme para más consejos.", 8.6),
    ]
    return measurements(cuts=[4.0, 8.4], duration=11.5, segments=segments, language="es")


def _landscape() -> Measurements:
    m = measurements(
        cuts=[2.5, 6.0], duration=9.0, segments=[segment("Watch how this works.", 0.5)]
    )
    probe = m.probe.model_copy(update={"width": 1920, "height": 1080})
    return m.model_copy(update={"probe": probe})


def _measured(**spec: object) -> Measurements:
    """A real reel made by reelgen and measured by the engine (speech recognition off: the
    speech reels above are hand-measured, a recogniser would make this test slow)."""
    from reels_scripter.analysis import AnalysisOptions, analyze

    with tempfile.TemporaryDirectory() as folder:
        path = make_reel(Path(folder) / "reel.mp4", **spec)
        return analyze(path, AnalysisOptions(transcribe=False))


def _real_landscape_music() -> Measurements:
    return _measured(
        duration=6.0,
        cuts=(2.0, 4.0),
        width=640,
        height=360,
        audio="clicks",
        captions=[(0.0, 2.5, "3 TRICKS")],
    )


def _real_no_audio() -> Measurements:
    return _measured(duration=5.0, cuts=(2.5,), width=270, height=480, audio="none")


REELS: dict[str, Callable[[], Measurements]] = {
    "speech": _speech,
    "no_speech": _no_speech,
    "no_audio": _no_audio,
    "music_only": _music_only,
    "spanish": _spanish,
    "landscape": _landscape,
    "real_landscape_music": _real_landscape_music,
    "real_no_audio": _real_no_audio,
}


@cache
def result_of(name: str) -> AnalysisResult:
    m = REELS[name]()
    rows = plan_rows(m)
    request = WriteRequest(measurements=m, rows=rows, video_path="x.mp4", target_language="ru")
    creative = LocalProvider.from_settings(Settings()).write(request)
    return compose_result(m, rows, creative, provider="local", target_language="ru")


# --- the three ways a person reads it ------------------------------------------------------


def page_texts(result: AnalysisResult) -> list[str]:
    """Every person-facing string of the result JSON, as the studio page shows them."""
    texts: list[str] = []
    for key in result.keys:
        texts += [key.title, key.description, *key.evidence]
    for row in result.script:
        texts += [row.visual, row.text, row.note]
    for rec in result.recommendations:
        texts += [rec.category, rec.text]
    if result.hook_type is not None:
        texts += [hook_type_label(result.hook_type.type), result.hook_type.evidence]
    texts += [str(w) for w in result.meta.warnings]
    return [t for t in texts if t]


def docx_texts(result: AnalysisResult) -> list[str]:
    document = Document(io.BytesIO(render_docx(result, {}, title="reel.mp4")))
    texts = [p.text for p in document.paragraphs]
    for table in document.tables:
        texts += [cell.text for row in table.rows for cell in row.cells]
    return [t for t in texts if t.strip()]


def markdown_texts(result: AnalysisResult) -> list[str]:
    return [line for line in render_markdown(result).splitlines() if line.strip()]


MEDIA: dict[str, Callable[[AnalysisResult], list[str]]] = {
    "page": page_texts,
    "docx": docx_texts,
    "markdown": markdown_texts,
}
CASES = [(reel, medium) for reel in REELS for medium in MEDIA]


def texts_of(reel: str, medium: str) -> list[str]:
    return MEDIA[medium](result_of(reel))


# --- the editor's rules ----------------------------------------------------------------------

CYRILLIC = re.compile("[\u0400-\u04ff]")
DECIMAL_POINT = re.compile(r"\d\.\d")


def decimal_points(texts: list[str]) -> list[str]:
    """Russian prose with a decimal point between digits («5.3 с» instead of «5,3 с»)."""
    return [t for t in texts if CYRILLIC.search(t) and DECIMAL_POINT.search(t)]


# The nouns the texts count, by lemma; each figure before one must agree with it.
COUNTED = {
    "сцена",
    "слово",
    "секунда",
    "пауза",
    "склейка",
    "блок",
    "план",
    "мысль",
    "панорама",
    "наезд",
    "движение",
}
# Prepositions that put the counted phrase in the genitive («около 161 слова», «из 5 сцен»).
GENITIVE = {"около", "из", "до", "от", "без", "для", "больше", "меньше", "более", "менее"}
COUNTED_PHRASE = re.compile(
    r"(?<![\d,.])(?P<figure>\d+(?:,\d+)?)[ \xa0]"
    r"(?:(?:[а-яё]+ых|[а-яё]+их)[ \xa0])?(?P<noun>[а-яё]+)",
    re.IGNORECASE,
)


@cache
def _morph() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer()


def disagreements(texts: list[str]) -> list[str]:
    """«161 слово» after «около», «5 сцены», «5.3 слов»: a counted noun whose form does not
    agree with the figure before it."""
    morph = _morph()
    found = []
    for text in texts:
        for match in COUNTED_PHRASE.finditer(text):
            noun, figure = match["noun"].lower(), match["figure"]
            parses = [p for p in morph.parse(noun) if p.normal_form in COUNTED and "NOUN" in p.tag]
            if not parses:
                continue
            # the phrase's case: the genitive after «около», «из»...; else the subject or object
            before = text[: match.start()].split()
            prep = before[-1].lower() if before else ""
            cases = {"gent"} if prep in GENITIVE else {"nomn", "accs"}
            if "," in figure:  # a fraction takes the genitive singular: «5,3 слова»
                ok = any(p.tag.case == "gent" and p.tag.number == "sing" for p in parses)
            else:
                ok = noun in {
                    agreed.word
                    for p in parses
                    for case in cases
                    if (base := p.inflect({case, "sing"})) is not None
                    and (agreed := base.make_agree_with_number(int(figure))) is not None
                }
            if not ok:
                found.append(match.group(0))
    return found


# Words for developers, never for a creator: settings, files, identifiers, engine names.
DEVELOPER_WORDS = re.compile(
    r"\b[A-Za-z]+_[A-Za-z0-9_]+\b|\b[A-Z][A-Z0-9]*_?[A-Z0-9]*=|README|local-rules|\blocal\b|"
    r"argostranslate|whisper|gemini|openai|tiny\.en|large-v3|\b\w+\.(?:py|md|js)\b|"
    r"\((?:en|es|ru|de)\)",
    re.IGNORECASE,
)


def developer_words(texts: list[str]) -> list[str]:
    return [t for t in texts if DEVELOPER_WORDS.search(t)]


SENTENCE_START = re.compile(r"[.!?…][»)]?\s+(?P<next>[a-zа-яё])")


def lower_case_sentences(texts: list[str]) -> list[str]:
    """A sentence that starts in lower case after a full stop, or a text that does."""
    return [t for t in texts if SENTENCE_START.search(t)]


# One name for one thing: the voice-over («Текст за кадром»), the original's text («Оригинал»,
# as on the page), the sound card («Звук»), the cut («склейка»).
OTHER_TERMS = re.compile(
    r"озвучк|Транскрипц|Расшифровк|Аудио|смен[аыу]? кадра|неподвижн\w+ план|~|сек\b|"
    r"Хук\. Хук|Звук\. Звук|«[^»]*«[^»]*»[.!?]»",
)


def other_terms(texts: list[str]) -> list[str]:
    return [t for t in texts if OTHER_TERMS.search(t)]


# --- the checks --------------------------------------------------------------------------


# Each rule lists the texts that break it: the decimal comma, numbers agreeing with their
# nouns, no words for developers, sentences starting with a capital, one term for one thing.
RULES = [decimal_points, disagreements, developer_words, lower_case_sentences, other_terms]


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
@pytest.mark.parametrize(("reel", "medium"), CASES)
def test_russian_text_rules(reel: str, medium: str, rule: Callable[[list[str]], list[str]]) -> None:
    assert rule(texts_of(reel, medium)) == []


@pytest.mark.parametrize("reel", REELS)
def test_page_texts_are_sentences(reel: str) -> None:
    result = result_of(reel)
    sentences = [k.description for k in result.keys] + [r.note for r in result.script]
    sentences += [r.text for r in result.recommendations] + [str(w) for w in result.meta.warnings]
    for text in sentences:
        assert text[0].isupper() and text.endswith((".", "!", "?", "…", "»")), text


@pytest.mark.parametrize("reel", REELS)
def test_one_time_format_in_docx_and_markdown(reel: str) -> None:
    result = result_of(reel)
    spans = [f"{_n(r.start)}–{_n(r.end)}{NB}с" for r in result.script]
    docx, markdown = "\n".join(docx_texts(result)), render_markdown(result)
    assert all(span in docx and span in markdown for span in spans), spans
    assert "Текст за кадром" in docx and "Текст за кадром" in markdown


def _n(value: float) -> str:
    rounded = round(value, 1)
    return str(int(rounded)) if rounded == int(rounded) else str(rounded).replace(".", ",")


# --- the checks catch what the issue quoted --------------------------------------------------


def test_the_checks_catch_the_quoted_errors() -> None:
    assert decimal_points(["в среднем 5.3 слова", "«−21.1 дБ»"]) == [
        "в среднем 5.3 слова",
        "«−21.1 дБ»",
    ]
    assert decimal_points(["в среднем 5,3 слова", "Stop 3.5 tips"]) == []
    assert disagreements(["около 161 слово в минуту"]) == ["161 слово"]
    assert disagreements(["5 сцены", "2 сцен", "5,3 слов"]) == ["5 сцены", "2 сцен", "5,3 слов"]
    assert disagreements(["около 161 слова", "из 5 сцен", "5 статичных планов", "1 сцена"]) == []
    assert developer_words(["анализ: local (local-rules-v1)", "задайте AI_PROVIDER=gemini"])
    assert developer_words(["(см. README)", "Расшифровка (en): hello"])
    assert developer_words(["громкость −14 LUFS, трек 120 BPM (HeyGen, Synthesia)"]) == []
    assert lower_case_sentences(["Тип хука: Не определён. по измерениям тип хука не определить"])
    assert other_terms(["по озвучке", "Транскрипция", "Аудио", "0 смен кадра", "Хук. Хук в"])
    assert other_terms(["Расшифровка (английский)"])
    assert other_terms(["««…every day.».»"])
    assert other_terms(["Склейка каждые ~5 с"])


# --- what the texts say about reels without speech, without sound and not vertical -----------


def test_a_reel_without_speech_is_told_there_is_no_speech() -> None:
    result = result_of("no_speech")
    text = " ".join(page_texts(result))
    assert "Речь не распознана" not in text and "Пауза в речи" not in text
    assert "нет речи" in text
    [avatar] = [r.text for r in result.recommendations if r.kind == "avatar"]
    assert avatar.startswith("В ролике нет речи")
    [music] = [r.text for r in result.recommendations if r.kind == "music"]
    assert "тише голоса" not in music


def test_a_reel_without_an_audio_track_is_told_there_is_no_sound() -> None:
    result = result_of("no_audio")
    text = " ".join(page_texts(result))
    assert "тише голоса" not in text and "Пауза в речи" not in text
    assert "нет звуковой дорожки" in text
    delivery = result.keys[2]
    assert delivery.title == "Подача без звука" and "звуковой дорожки нет" in delivery.evidence
    assert result.keys[0].evidence[0] == "звука нет"
    notes = [r.note for r in result.script[1:-1]]
    assert notes and all(n.startswith("Без звука") for n in notes)


def test_a_landscape_reel_is_told_it_is_not_vertical_and_what_to_change() -> None:
    result = result_of("landscape")
    [shape] = [r for r in result.recommendations if r.kind == "other"]
    assert "горизонтально (16:9)" in shape.text and "9:16" in shape.text
    assert "снимайте вертикально" in shape.text
    assert "кадр горизонтальный, 16:9" in result.keys[3].evidence
    vertical = result_of("speech")
    assert not [r for r in vertical.recommendations if r.kind == "other"]


def test_avatar_advice_follows_the_measured_speech_share() -> None:
    speech = result_of("speech")
    [avatar] = [r.text for r in speech.recommendations if r.kind == "avatar"]
    assert "вторичен" not in avatar and "говорящая голова" in avatar
    music = result_of("music_only")
    [avatar] = [r.text for r in music.recommendations if r.kind == "avatar"]
    assert "нет речи" in avatar


def test_real_reels_are_told_what_was_measured() -> None:
    landscape = result_of("real_landscape_music")
    assert [r for r in landscape.recommendations if r.kind == "other"]  # not vertical
    silent = result_of("real_no_audio")
    assert silent.keys[4].evidence == ["звуковой дорожки нет"]
    assert "тише голоса" not in " ".join(page_texts(silent))


def test_every_notice_the_server_raises_has_a_russian_sentence() -> None:
    import reels_scripter
    from reels_scripter.fit import ROWS_TOO_LONG
    from reels_scripter.providers.flow import AI_PARTIAL
    from reels_scripter.providers.local import LOCAL_RUSSIAN_ONLY, TRANSLATION_UNAVAILABLE
    from reels_scripter.texts import notice_text

    source = Path(reels_scripter.__file__).parent
    codes = {AI_PARTIAL, LOCAL_RUSSIAN_ONLY, TRANSLATION_UNAVAILABLE, ROWS_TOO_LONG}
    for path in source.rglob("*.py"):
        codes |= set(re.findall(r'Notice\.of\(\s*"([a-z_]+)"', path.read_text(encoding="utf-8")))
    assert len(codes) >= 8
    for code in sorted(codes):
        text = notice_text(code, "ru", {})
        assert text is not None and CYRILLIC.search(text), code
        assert text[0].isupper() and text.endswith("."), text
        assert not developer_words([text]) and not decimal_points([text]), text


def test_an_ai_writers_russian_gets_the_decimal_comma_too() -> None:
    m = _speech()
    rows = plan_rows(m)
    request = WriteRequest(measurements=m, rows=rows, video_path="x.mp4", target_language="ru")
    creative = LocalProvider.from_settings(Settings()).write(request)
    key = creative.keys[2].model_copy(update={"description": "В среднем 5.3 слова за 0.5 с."})
    kept = creative.rows[0].model_copy(update={"text": "Here are 3.5 tips", "text_language": "en"})
    creative = creative.model_copy(
        update={
            "keys": [*creative.keys[:2], key, *creative.keys[3:]],
            "rows": [kept, *creative.rows[1:]],
        }
    )
    result = compose_result(m, rows, creative, provider="gemini", target_language="ru")
    assert result.keys[2].description == f"В среднем 5,3{NB}слова за 0,5{NB}с."
    assert result.script[0].text == "Here are 3.5 tips"  # a line in its own language, as said
