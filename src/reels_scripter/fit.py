"""PROVISIONAL stub of helper fit's module (SHAPES.md), replaced when fit lands."""

from __future__ import annotations

import re

from reels_scripter.contract import Pace, RowFit

DEFAULT_PACE = Pace(syllables_per_sec=4.0, source="default")


def count_syllables(text: str, language: str | None) -> int:
    return len(re.findall(r"[аеёиоуыэюяaeiouy]+", text.lower()))


def fit_row(text: str, language: str | None, seconds_available: float, pace: Pace) -> RowFit:
    syllables = count_syllables(text, language)
    needed = round(syllables / pace.syllables_per_sec, 2)
    status = (
        "ok"
        if needed <= seconds_available * 0.9
        else "tight"
        if needed <= seconds_available
        else "too_long"
    )
    return RowFit(
        syllables=syllables,
        seconds_needed=needed,
        seconds_available=seconds_available,
        status=status,
    )
