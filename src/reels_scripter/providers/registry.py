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
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Literal

from reels_scripter.config import Settings
from reels_scripter.providers.base import Provider, ProviderConfigError, ProviderContext
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


@dataclass(frozen=True)
class AIChoice:
    """Which provider writes a job, and the option values that override the environment's
    for it (by field name: the studio's stored key, model and server address)."""

    name: str
    overrides: Mapping[str, Any] = field(default_factory=dict)
    source: Literal["environment", "studio"] = "environment"

    def provider(self, settings: Settings) -> Provider:
        return get_provider(self.name, settings, self.overrides)

    def result_options(self, settings: Settings) -> dict[str, Any]:
        return result_options(self.name, settings, self.overrides)


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


def get_provider(
    name: str, settings: Settings, overrides: Mapping[str, Any] | None = None
) -> Provider:
    """The named provider with its own options (`overrides` by field name on top)."""
    cls = provider_class(name)
    return cls(provider_options(name, settings, overrides), ProviderContext.from_settings(settings))


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


def provider_options(
    name: str, settings: Settings, overrides: Mapping[str, Any] | None = None
) -> ProviderOptions:
    """The named provider's options for `settings` (see `ProviderOptions.from_settings`)."""
    return options_class(name).from_settings(settings, overrides)


def result_options(
    name: str, settings: Settings, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """What the named provider's output depends on besides the reel itself."""
    return provider_options(name, settings, overrides).result_values()


def remember_secrets(settings: Settings) -> None:
    """Read every built-in provider's options once, so their keys are hidden from the logs
    of a process that never builds that provider (the API quoting a worker's reason)."""
    for name in _BUILTIN_OPTIONS:
        provider_options(name, settings)


def all_env_names() -> list[str]:
    """Every environment name the service reads: `Settings` and the built-in providers."""
    names = Settings.env_names()
    for target in _BUILTIN_OPTIONS.values():
        options: type[ProviderOptions] = _load(target)
        names += options.env_names()
    return names
