"""The caption a creator puts on screen in a script row, where the original showed one.

The row's captions come measured (`RowPlan.captions`: read on screen in the row's shots, each
span clipped to the row). The text is the AI's adaptation when there is one; offline it is the
original text with its language, so the page can say it still needs translating.
"""

from __future__ import annotations

from collections.abc import Sequence

from reels_scripter.analysis.models import OnscreenText
from reels_scripter.contract import OnscreenCaption
from reels_scripter.fit import has_cyrillic

# Several captions in one row are shown one after another: one line each in reading order.
CAPTION_SEPARATOR = " / "
UNKNOWN_LANGUAGE = "und"  # ISO 639-2 "undetermined"
_CYRILLIC_LANGUAGES = frozenset({"ru", "uk", "be", "bg", "kk", "mk", "sr", "ky", "tg", "mn"})


def caption_language(text: str, target_language: str, spoken_language: str | None) -> str | None:
    """The language of a caption when it is not the target language (it needs translating),
    else None. OCR gives no language, only the script tells: a caption in the target's script
    is taken as the target language; in another script its language is the spoken one when
    that is written in the same script, else "und". A caption without letters ("3", "100%")
    needs nothing."""
    if not any(ch.isalpha() for ch in text):
        return None
    cyrillic = has_cyrillic(text)
    if cyrillic == (target_language in _CYRILLIC_LANGUAGES):
        return None
    if spoken_language and (spoken_language in _CYRILLIC_LANGUAGES) == cyrillic:
        return spoken_language
    return UNKNOWN_LANGUAGE


def row_caption(
    captions: Sequence[OnscreenText],
    adapted: str | None,
    *,
    target_language: str,
    spoken_language: str | None,
) -> OnscreenCaption | None:
    """The row's caption: measured span and original text, the AI's `adapted` text if any."""
    if not captions:
        return None
    texts = list(dict.fromkeys(" ".join(c.text.split()) for c in captions))
    original = CAPTION_SEPARATOR.join(t for t in texts if t)
    if not original:
        return None
    text = (adapted or "").strip()
    language = None if text else caption_language(original, target_language, spoken_language)
    return OnscreenCaption(
        text=text or original,
        start=min(c.start for c in captions),
        end=max(c.end for c in captions),
        original=original,
        language=language,
    )
