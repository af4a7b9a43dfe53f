from __future__ import annotations

from reels_scripter.config import Settings
from reels_scripter.contract import KEY_CATEGORIES, REQUIRED_RECOMMENDATION_KINDS
from reels_scripter.providers.base import WriteRequest
from reels_scripter.providers.local import LocalProvider, plural
from reels_scripter.rows import plan_rows
from support.factories import measurements, segment


def _write(m, language: str = "ru"):
    rows = plan_rows(m)
    req = WriteRequest(measurements=m, rows=rows, video_path="x.mp4", target_language=language)
    return rows, LocalProvider(Settings()).write(req)


def test_keys_cite_measured_evidence() -> None:
    m = measurements(
        cuts=[1.2, 2.5, 6.0], duration=10.0, segments=[segment("stop scrolling here is why", 0.4)]
    )
    _, c = _write(m)
    assert [k.category for k in c.keys] == list(KEY_CATEGORIES)
    hook = c.keys[0]
    assert "первая реплика на 0.4 с" in hook.evidence
    assert "2 смены кадра за первые 3 с" in hook.evidence
    audio = c.keys[4]
    assert "музыка ~120 BPM" in audio.evidence
    delivery = c.keys[2]
    assert "темп 30 слов в минуту" in delivery.evidence


def test_recommendations_cover_required_kinds() -> None:
    _, c = _write(measurements(cuts=[3.0], duration=6.0))
    assert {r.kind for r in c.recommendations} >= set(REQUIRED_RECOMMENDATION_KINDS)
    assert all(r.text and r.category for r in c.recommendations)


def test_voice_over_keeps_original_with_notice_when_no_translator() -> None:
    m = measurements(cuts=[3.0], duration=6.0, segments=[segment("hello world", 0.5)])
    _rows, c = _write(m)
    assert c.rows[0].text == "hello world"
    [notice] = c.notices
    assert (notice.code, notice.params["source"]) == ("translation_unavailable", "en")


def test_hook_type_is_classified_from_the_first_sentence() -> None:
    m = measurements(cuts=[3.0], duration=6.0, segments=[segment("why do reels fail?", 0.5)])
    _rows, c = _write(m)
    assert c.hook_type is not None and c.hook_type.type == "open_question"
    assert "why do reels fail?" in c.hook_type.evidence


def test_other_languages_get_the_russian_only_notice() -> None:
    m = measurements(cuts=[3.0], duration=6.0, segments=[segment("hallo welt", 0.5)])
    _rows, c = _write(m, language="de")
    assert [n.code for n in c.notices] == ["local_writes_russian_only", "translation_unavailable"]


def test_same_language_speech_is_used_as_is_without_warning() -> None:
    m = measurements(
        cuts=[3.0], duration=6.0, segments=[segment("привет всем друзья", 0.5)], language="ru"
    )
    _, c = _write(m)
    assert c.rows[0].text == "привет всем друзья"
    assert c.translation == "привет всем друзья"
    assert not c.notices


def test_silent_reel_gets_placeholder_text_and_no_translation_warning() -> None:
    m = measurements(cuts=[3.0], duration=6.0, segments=[])
    rows, c = _write(m)
    assert len(c.rows) == len(rows)
    assert all("без текста" in r.text for r in c.rows)
    assert c.translation == ""
    assert not c.notices
    assert c.keys[2].evidence == ["распознанной речи нет"]


def test_russian_plurals() -> None:
    forms = ("сцена", "сцены", "сцен")
    assert [plural(n, forms) for n in (1, 2, 5, 11, 21, 22, 25, 111)] == [
        "сцена",
        "сцены",
        "сцен",
        "сцен",
        "сцена",
        "сцены",
        "сцен",
        "сцен",
    ]
