"""How a provider declares its settings (simonw/llm's per-model `Options`, adapted).

Each provider owns one `ProviderOptions` model: its fields, their environment names (the seed's
`GEMINI_MODEL`, `GOOGLE_AI_API_KEY`, ...), defaults, validation, and which of them change what
the provider writes for the same reel (`option(..., changes_result=True)`). The built-in
providers' option models are mixed into the one `Settings` class, so `.env` and the environment
keep working unchanged and a test overrides a provider knob like any other setting.

The registry reads `result_options` from these light modules (pydantic only), so the API can
fingerprint every upload for dedupe without importing a provider's SDK.

Stdlib and pydantic only: `config.py` imports this module.
"""

from __future__ import annotations

from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

_CHANGES_RESULT = "changes_result"


def option(
    default: Any,
    *,
    env: str | tuple[str, ...],
    changes_result: bool = False,
    **constraints: Any,
) -> Any:
    """A provider setting read from `env` (several names: the first found wins).

    `changes_result` marks settings that change what the provider writes for the same reel:
    they enter the jobs' dedupe fingerprint, so a changed model never reuses an old result.
    """
    names = (env,) if isinstance(env, str) else env
    alias: dict[str, Any] = (
        {"alias": names[0]} if len(names) == 1 else {"validation_alias": AliasChoices(*names)}
    )
    extra: JsonDict | None = {_CHANGES_RESULT: True} if changes_result else None
    return Field(default, json_schema_extra=extra, **alias, **constraints)


class ProviderOptions(BaseModel):
    """Base of every provider's options; subclasses only declare fields with `option()`.

    A third-party provider's options are not part of `Settings`: make them a pydantic-settings
    `BaseSettings` subclass as well and they read their own environment names.
    """

    model_config = ConfigDict(populate_by_name=True)

    @classmethod
    def from_settings(cls, settings: BaseModel) -> ProviderOptions:
        """This provider's view of `settings`; fields `settings` lacks keep their defaults."""
        given = {n: getattr(settings, n) for n in cls.model_fields if hasattr(settings, n)}
        return cls.model_validate(given)

    @classmethod
    def result_fields(cls) -> list[str]:
        """Names of the fields marked `changes_result`, in declaration order."""
        marked = []
        for name, info in cls.model_fields.items():
            extra = info.json_schema_extra
            if isinstance(extra, dict) and extra.get(_CHANGES_RESULT):
                marked.append(name)
        return marked

    @classmethod
    def result_options(cls, settings: BaseModel) -> dict[str, Any]:
        """The result-changing values for `settings` (the dedupe fingerprint's provider part)."""
        options = cls.from_settings(settings)
        return {name: getattr(options, name) for name in cls.result_fields()}


class NoOptions(ProviderOptions):
    """A provider with nothing to configure (the local one)."""
