"""How a provider declares its settings (simonw/llm's per-model `Options`, adapted).

Each provider owns one `ProviderOptions` model: its fields, their environment names (the seed's
`GEMINI_MODEL`, `GOOGLE_AI_API_KEY`, ...), defaults, validation, and which of them change what
the provider writes for the same reel (`option(..., changes_result=True)`). Each model reads its
own names from the environment and `.env` (a pydantic-settings class), so `Settings` knows
nothing about providers and a provider is handed exactly its options, never the whole service
configuration. Secrets are `SecretStr` fields; every one that is set is handed to the log
redaction once, when the options are read (`logs.remember_secret`).

The registry reads `result_options` from these light modules (pydantic only), so the API can
fingerprint every upload for dedupe without importing a provider's SDK.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from pydantic import AliasChoices, BaseModel, Field, SecretStr
from pydantic.config import JsonDict
from pydantic_settings import BaseSettings, SettingsConfigDict

from reels_scripter.config import field_env_names
from reels_scripter.logs import remember_secret

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


class ProviderOptions(BaseSettings):
    """Base of every provider's options; subclasses only declare fields with `option()`."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    def model_post_init(self, context: Any, /) -> None:
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                remember_secret(value.get_secret_value())

    @classmethod
    def from_settings(cls, settings: BaseModel, overrides: Mapping[str, Any] | None = None) -> Self:
        """This provider's options: the environment (and `.env`), under the values given to
        `Settings` by environment name (a test's or a caller's explicit ones), under
        `overrides` by field name (the studio's stored AI settings)."""
        given = cls.by_field_name(getattr(settings, "model_extra", None) or {})
        return cls(**{**given, **(overrides or {})})

    @classmethod
    def by_field_name(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        """`values` keyed by any of a field's names (any case), re-keyed by field name;
        names of no field here are left out."""
        names: dict[str, str] = {}
        for field, info in cls.model_fields.items():
            names[field.lower()] = field
            names.update({name.lower(): field for name in field_env_names(info)})
        return {names[k.lower()]: v for k, v in values.items() if k.lower() in names}

    @classmethod
    def env_names(cls) -> list[str]:
        """Every environment name these options are read from."""
        return [name for info in cls.model_fields.values() for name in field_env_names(info)]

    @classmethod
    def result_fields(cls) -> list[str]:
        """Names of the fields marked `changes_result`, in declaration order."""
        marked = []
        for name, info in cls.model_fields.items():
            extra = info.json_schema_extra
            if isinstance(extra, dict) and extra.get(_CHANGES_RESULT):
                marked.append(name)
        return marked

    def result_values(self) -> dict[str, Any]:
        """The result-changing values (the dedupe fingerprint's provider part)."""
        return {name: getattr(self, name) for name in type(self).result_fields()}


class NoOptions(ProviderOptions):
    """A provider with nothing to configure (the local one)."""
