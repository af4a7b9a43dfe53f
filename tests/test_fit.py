"""Syllables, pace and fit: hand-counted lines in each language, and a measured espeak reel."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from reels_scripter.analysis.models import SpeechSegment, Transcript, Word
from reels_scripter.compose import compose_result
from reels_scripter.config import Settings
from reels_scripter.contract import Pace
from reels_scripter.fit import (
    DEFAULT_PACE,
    count_syllables,
    fit_row,
    measure_pace,
    syllable_budget,
)
from reels_scripter.pipeline import analyze_reel
from reels_scripter.providers.base import Creative, RowContent, RowPlan
from support.factories import measurements
from support.reelgen import SPEECH_TEXTS, espeak, make_spoken_reel

# Counted by hand, syllable by syllable, as the words are said.
HAND_COUNTED = [
    # Стоп(1) не(1) лис-тай(2) даль-ше(2) вот(1) три(1) трю-ка(2) ко-то-ры-е(4) сэ-ко-но-мят(4)
    # те-бе(2) час(1) каж-дый(2) день(1)
    (
        "ru",
        "Стоп, не листай дальше: вот три трюка, которые сэкономят тебе час каждый день.",
        24,
    ),
    # в and с have no vowel: по-э-т(2) no, «поэт» is по-эт (2); в(0) мо-ё-м(2) до-ме(2) с(0)
    # ок-на-ми(3) но-ва-я(3) кух-ня(2)
    ("ru", "Поэт в моём доме с окнами: новая кухня.", 14),
    # Stop(1) scrol-ling(2) Here(1) are(1) three(1) tricks(1) peo-ple(2) use(1) to(1) make(1)
    # their(1) ta-ble(2) look(1) bet-ter(2)
    ("en", "Stop scrolling. Here are three tricks people use to make their table look better.", 18),
    # This(1) saves(1) you(1) time(1); the box-es(2) are(1) want-ed(2) and(1) jumped(1)
    ("en", "This saves you time; the boxes are wanted and jumped.", 12),
    # De-ja(2) de(1) des-pla-zar-te(4) mue-le(2) los(1) gra-nos(2) ca-da(2) ma-ña-na(3) el(1)
    # dí-a(2) em-pie-za(3) me-jor(2)
    ("es", "Deja de desplazarte: muele los granos cada mañana, el día empieza mejor.", 25),
    # Der(1) Kaf-fee(2) schmeckt(1) heu-te(2) bes-ser(2) weil(1) ich(1) die(1) Boh-nen(2)
    # frisch(1) mah-le(2)
    ("de", "Der Kaffee schmeckt heute besser, weil ich die Bohnen frisch mahle.", 16),
    # Ar-rête(2) de(1) faire(1) dé-fi-ler(3) voi-ci(2) trois(1) as-tuces(2) pour(1) une(1)
    # table(1) par-faite(2): spoken French, no final schwa
    ("fr", "Arrête de faire défiler: voici trois astuces pour une table parfaite.", 17),
    # Il(1) caf-fè(2) di(1) og-gi(2) è(1) buo-nis-si-mo(4) pro-va(2) an-che(2) tu(1) que-sta(2)
    # i-de-a(3)
    ("it", "Il caffè di oggi è buonissimo, prova anche tu questa idea.", 21),
    # Não(1) pa-re(2) a-go-ra(3) es-tas(2) três(1) di-cas(2) mu-dam(2) o(1) seu(1) pão(1)
    # são(1) ó-ti-mas(3) e(1) le-em(2)
    ("pt", "Não pare agora: estas três dicas mudam o seu pão, são ótimas e leem.", 23),
]


@pytest.mark.parametrize(("language", "text", "syllables"), HAND_COUNTED)
def test_syllables_match_a_hand_count(language: str, text: str, syllables: int) -> None:
    assert count_syllables(text, language) == syllables


def test_directions_in_brackets_are_not_spoken() -> None:
    assert count_syllables("(без текста — говорит картинка)", "ru") == 0
    assert count_syllables("[английский, без перевода] Stop scrolling", "en") == 3
    assert count_syllables("", "ru") == 0


def test_unknown_language_counts_vowel_groups_of_any_script() -> None:
    assert count_syllables("новая кухня", None) == 5
    assert count_syllables("stop scrolling", None) == 3


def test_numbers_count_syllables_per_digit() -> None:
    # "three" (1 syllable) and Russian «три» (1): a digit is at least one syllable
    assert count_syllables("3", "en") == 2
    assert count_syllables("3", "ru") == 2
    assert count_syllables("2026", "ru") > count_syllables("3", "ru")


def _words(*spans: tuple[float, float, str]) -> Transcript:
    words = [Word(start=a, end=b, text=t) for a, b, t in spans]
    text = " ".join(t for _, _, t in spans)
    return Transcript(
        language="en",
        segments=[SpeechSegment(start=words[0].start, end=words[-1].end, text=text, words=words)],
    )


def test_pace_leaves_long_pauses_out() -> None:
    transcript = _words(
        (0.0, 0.5, "Stop"),
        (0.5, 1.0, "scrolling"),
        (1.0, 2.0, "people use better tables"),
        (5.0, 6.0, "natural wonders"),
    )
    pace = measure_pace(transcript)
    assert pace.source == "measured"
    # Stop(1) scrol-ling(2) peo-ple(2) use(1) bet-ter(2) ta-bles(2) = 10 in 2 s, a 3 s pause,
    # then nat-u-ral(3) won-ders(2) in 1 s: 15 syllables in 3 s of speech
    assert pace.syllables_per_sec == pytest.approx(5.0, abs=0.01)


def test_no_speech_gets_the_calm_default() -> None:
    assert measure_pace(Transcript()) == Pace(syllables_per_sec=DEFAULT_PACE, source="default")
    # one short word says nothing about a speaker's pace
    assert measure_pace(_words((1.0, 1.3, "Hi"))).source == "default"


def test_fit_status_thresholds() -> None:
    pace = Pace(syllables_per_sec=5.0, source="measured")
    line = "Стоп, не листай дальше: вот три трюка, которые сэкономят тебе час каждый день."
    # 24 syllables at 5/s need 4.8 s
    assert fit_row(line, "ru", 6.0, pace).status == "ok"  # 80%
    assert fit_row(line, "ru", 5.0, pace).status == "tight"  # 96%
    assert fit_row(line, "ru", 4.5, pace).status == "tight"  # 107%
    fit = fit_row(line, "ru", 4.0, pace)  # 120%
    assert fit.status == "too_long"
    assert (fit.syllables, fit.seconds_needed, fit.seconds_available) == (24, 4.8, 4.0)
    assert fit_row("(пауза)", "ru", 0.0, pace).status == "ok"
    assert syllable_budget(6.0, pace) == 27  # 90% of 30


# Stop(1) scrol-ling(2). Here(1) are(1) three(1) sim-ple(2) tricks(1) to(1) film(1) bet-ter(2)
# vid-e-os(3) with(1) your(1) phone(1). First(1), al-ways(2) shoot(1) near(1) a(1) win-dow(2)
# for(1) soft(1) nat-u-ral(3) light(1). Fol-low(2) for(1) more(1) tips(1).
HAND_SYLLABLES_EN = 38


def _speech_seconds(samples: np.ndarray, rate: int) -> float:
    """Time the clean espeak signal speaks, pauses left out: 20 ms frames above -40 dB of the
    peak, gaps between them up to 0.24 s (stop consonants) counted as speech."""
    hop = rate // 50
    frames = samples[: len(samples) // hop * hop].reshape(-1, hop)
    level = 20 * np.log10(np.maximum(np.sqrt((frames**2).mean(axis=1)), 1e-9))
    voiced = np.nonzero(level > level.max() - 40)[0]
    gaps = np.diff(voiced)
    total = len(voiced) + int(gaps[(gaps > 1) & (gaps <= 12)].sum())
    total -= int(((gaps > 1) & (gaps <= 12)).sum())
    return float(total * hop / rate)


def test_offline_pace_of_an_english_reel_is_within_20_percent_of_a_hand_count(
    tmp_path: Path, settings_factory: Callable[..., Settings]
) -> None:
    assert count_syllables(SPEECH_TEXTS["en"], "en") == pytest.approx(HAND_SYLLABLES_EN, abs=1)
    spoken = espeak(SPEECH_TEXTS["en"], "en-us", 16000)
    hand = HAND_SYLLABLES_EN / _speech_seconds(spoken, 16000)
    path = make_spoken_reel(
        tmp_path / "en.mp4", "en-us", SPEECH_TEXTS["en"], duration=14.0, cuts=(5.0, 10.0)
    )
    result = analyze_reel(path, settings_factory())
    pace = result.meta.pace
    assert pace is not None and pace.source == "measured"
    print(f"measured pace {pace.syllables_per_sec} syllables/s, hand count {hand:.2f}")
    assert pace.syllables_per_sec == pytest.approx(hand, rel=0.2), (pace, hand)
    assert all(row.fit is not None for row in result.script)
    for row in result.script:
        assert row.fit is not None
        assert row.fit.seconds_available == pytest.approx(row.end - row.start, abs=0.01)


def test_the_warning_names_only_the_russian_rows_that_do_not_fit() -> None:
    m = measurements(cuts=[2.0, 4.0], duration=6.0)  # no words timed: the default 4/s
    rows = [RowPlan(id=i, start=2.0 * i, end=2.0 * i + 2.0, scene=i, scenes=[i]) for i in range(3)]
    long_ru = "Подробно рассказываем, как правильно снимать видео дома каждый день."
    long_en = "Here are three simple tricks to film better videos with your phone today."
    creative = Creative(
        translation="",
        keys=[],
        recommendations=[],
        rows=[
            RowContent(id=0, visual="v", text="Стоп.", note="n"),
            RowContent(id=1, visual="v", text=long_ru, note="n"),
            RowContent(id=2, visual="v", text=long_en, note="n", text_language="en"),
        ],
    )
    result = compose_result(m, rows, creative, provider="local", target_language="ru")
    assert result.meta.pace == Pace(syllables_per_sec=DEFAULT_PACE, source="default")
    statuses = [r.fit.status for r in result.script if r.fit]
    assert statuses == ["ok", "too_long", "too_long"]
    [warning] = [w for w in result.meta.warnings if "не укладываются" in w]
    assert "2–4\u00a0с" in warning and "4–6" not in warning
