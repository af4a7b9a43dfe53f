"""Providers are looked up by name, never chosen by if-chains.

Built-ins are registered as import paths so that naming `local` does not import the Gemini
or OpenAI SDKs (their import alone costs a noticeable part of a short analysis), and each names
its options module separately: `result_options` (the jobs' dedupe fingerprint) reads a
provider's declared options without loading its SDK. Third-party providers can register with the
decorator or the `reels_scripter.providers` entry point group; their `Options` class attribute
declares their options.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

from reels_scripter.config import Settings
from reels_scripter.providers.base import Provider, ProviderConfigError
from reels_scripter.providers.options import NoOptions, ProviderOptions

_BUILTIN: dict[str, str] = {
    "local": "reels_scripter.providers.local:LocalProvider",
    "gemini": "reels_scripter.providers.gemini.provider:GeminiProvider",
    "openai": "reels_scripter.providers.openai_compat.provider:OpenAIProvider",
}
# Light modules (pydantic only): the provider's `Options` without its SDK.
_BUILTIN_OPTIONS: dict[str, str] = {
    "gemini": "reels_scripter.providers.gemini.options:GeminiOptions",
    "openai": "reels_scripter.providers.openai_compat.options:OpenAIOptions",
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
    try:
        loaded: type[Provider] = _load(target)
    except ImportError as exc:
        raise ProviderConfigError(f"AI provider {name!r} cannot be loaded: {exc}") from exc
    return loaded


def get_provider(name: str, settings: Settings) -> Provider:
    return provider_class(name)(settings)


def _load(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def options_class(name: str) -> type[ProviderOptions]:
    """The named provider's declared options, importing no SDK for the built-ins."""
    if name in _BUILTIN and name not in _registered:
        target = _BUILTIN_OPTIONS.get(name)
        loaded: type[ProviderOptions] = _load(target) if target else NoOptions
        return loaded
    return provider_class(name).Options


def result_options(name: str, settings: Settings) -> dict[str, Any]:
    """What the named provider's output depends on besides the reel itself."""
    return options_class(name).result_options(settings)
