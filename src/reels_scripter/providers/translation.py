"""Optional offline translation for the local provider.

argostranslate is found at import time, like PySceneDetect's optional backends; without it
(or without its language package) the local provider keeps the original line and says so.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Protocol


class Translator(Protocol):
    def __call__(self, text: str) -> str: ...


try:  # pragma: no cover - depends on an optional install
    import argostranslate.translate as _argos

    HAVE_ARGOS = True
except ImportError:  # pragma: no cover
    _argos: Any = None  # type: ignore[no-redef]
    HAVE_ARGOS = False


@lru_cache(maxsize=8)
def offline_translator(source: str, target: str) -> Translator | None:
    """A translator for source->target when an offline one is installed, else None."""
    if source == target:
        return lambda text: text
    if not HAVE_ARGOS:
        return None
    try:  # pragma: no cover - needs the argos language package
        languages = {lang.code: lang for lang in _argos.get_installed_languages()}
        src, dst = languages.get(source), languages.get(target)
        if src is None or dst is None:
            return None
        translation = src.get_translation(dst)
        if translation is None:
            return None
        return lambda text: str(translation.translate(text))
    except Exception:
        return None
