"""Providers are looked up by name, never chosen by if-chains.

Built-ins are registered as import paths so that naming `local` does not import the Gemini
or OpenAI SDKs (their import alone costs a noticeable part of a short analysis). Third-party
providers can register with the decorator or the `reels_scripter.providers` entry point group.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

from reels_scripter.config import Settings
from reels_scripter.providers.base import Provider, ProviderConfigError

_BUILTIN: dict[str, str] = {
    "local": "reels_scripter.providers.local:LocalProvider",
    "gemini": "reels_scripter.providers.gemini:GeminiProvider",
    "openai": "reels_scripter.providers.openai_compat:OpenAIProvider",
}
_registered: dict[str, type[Provider]] = {}


def register(name: str):  # type: ignore[no-untyped-def]
    """Class decorator: `@register("mine")` makes `AI_PROVIDER=mine` work."""

    def decorate(cls: type[Provider]) -> type[Provider]:
        _registered[name] = cls
        return cls

    return decorate


def available() -> list[str]:
    names = set(_BUILTIN) | set(_registered)
    names |= {ep.name for ep in entry_points(group="reels_scripter.providers")}
    return sorted(names)


def provider_class(name: str) -> type[Provider]:
    if name in _registered:
        return _registered[name]
    target = _BUILTIN.get(name)
    if target is None:
        for ep in entry_points(group="reels_scripter.providers"):
            if ep.name == name:
                cls: type[Provider] = ep.load()
                return cls
        raise ProviderConfigError(
            f"Unknown AI provider {name!r}; available: {', '.join(available())}"
        )
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ProviderConfigError(f"AI provider {name!r} cannot be loaded: {exc}") from exc
    loaded: type[Provider] = getattr(module, attr)
    return loaded


def get_provider(name: str, settings: Settings) -> Provider:
    return provider_class(name)(settings)


# The options of each built-in provider that change what it writes for the same reel. Read
# from settings without importing the provider module (the API builds a fingerprint for every
# upload and must not pay for the Gemini or OpenAI SDK import).
_RESULT_OPTIONS: dict[str, tuple[str, ...]] = {
    "local": (),
    "gemini": ("gemini_model", "gemini_video_fps", "gemini_media_resolution"),
    "openai": ("openai_model", "openai_max_images"),
}


def result_options(name: str, settings: Settings) -> dict[str, Any]:
    """What the named provider's output depends on besides the reel itself."""
    fields = _RESULT_OPTIONS.get(name)
    if fields is None:  # a third-party provider: its class knows
        return dict(provider_class(name)(settings).result_options())
    return {f: getattr(settings, f) for f in fields}
