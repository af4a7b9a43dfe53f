"""The AI settings use cases: show them, change them (checking the key at once), and tell
every new job which provider writes it.

Precedence: AI_PROVIDER set in the environment to a network provider wins over the page (the
page shows it read-only and a change is refused with 409). Otherwise the stored choice applies
when there is one, its key, model and server address over the environment's; the provider's
other knobs (rate, retries, timeouts) stay the environment's.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import SecretStr
from sqlalchemy.orm import Session

from reels_scripter.ai_settings.crypto import KeyBox
from reels_scripter.ai_settings.errors import (
    AIKeyRejectedError,
    AIKeyRequiredError,
    AIModelUnavailableError,
    AIServerUnreachableError,
    AIServiceBusyError,
    AISettingsError,
    AISettingsFromEnvironmentError,
)
from reels_scripter.ai_settings.models import StoredAISettings
from reels_scripter.ai_settings.repository import AISettingsRepository
from reels_scripter.config import Settings
from reels_scripter.db.base import utcnow
from reels_scripter.logs import remember_secret
from reels_scripter.providers.base import ModelNotFoundError, ProviderConfigError, ProviderError
from reels_scripter.providers.registry import AIChoice

log = logging.getLogger(__name__)

ProviderName = Literal["gemini", "openai", "local"]
# The page's fields as each provider's option names.
_FIELDS: dict[str, tuple[str, str, str | None]] = {
    # provider: (key option, model option, server address option)
    "gemini": ("google_ai_api_key", "gemini_model", None),
    "openai": ("openai_api_key", "openai_model", "openai_base_url"),
}
# The check is one quick call: a person is waiting for the answer.
_CHECK_OPTIONS: dict[str, dict[str, Any]] = {
    "gemini": {"gemini_max_retries": 1, "gemini_timeout_sec": 20.0, "gemini_use_vertexai": False},
    "openai": {"openai_max_retries": 1, "openai_timeout_sec": 20.0},
}


@dataclass(frozen=True)
class Change:
    """What the page asks for (already validated in shape by the endpoint)."""

    provider: ProviderName
    api_key: str | None = None
    model: str | None = None
    base_url: str | None = None


@dataclass(frozen=True)
class View:
    """What the page is told: never the key, only its last 4 characters."""

    provider: str
    source: Literal["environment", "studio", "default"]
    editable: bool
    model: str | None
    base_url: str | None
    key_last4: str | None
    checked_at: datetime | None

    @property
    def connected(self) -> bool:
        return self.provider != "local"

    @property
    def status(self) -> Literal["connected", "not_connected", "environment"]:
        """environment: set by the server's AI_PROVIDER, which wins over the page."""
        if self.source == "environment":
            return "environment"
        return "connected" if self.connected else "not_connected"


def environment_owns_ai(settings: Settings) -> bool:
    """AI_PROVIDER was given (environment, `.env`) and names a network provider."""
    return "ai_provider" in settings.model_fields_set and settings.ai_provider != "local"


def overrides_for(
    provider: str, key: str | None, model: str | None, base_url: str | None
) -> dict[str, Any]:
    """The page's values as option overrides of `provider` (by field name)."""
    fields = _FIELDS.get(provider)
    if fields is None:
        return {}
    key_field, model_field, url_field = fields
    values: dict[str, Any] = {key_field: SecretStr(key) if key else None}
    if model:
        values[model_field] = model
    if url_field is not None:
        values[url_field] = base_url or None
    if provider == "gemini":
        values["gemini_use_vertexai"] = False  # a pasted key is an AI Studio key
    return values


class _ChoiceCache:
    """The choice built from the stored row, per row version: decrypting once per save."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # (what the choice was built from, the choice, its key)
        self._cached: tuple[tuple[Any, ...], AIChoice, str | None] | None = None

    def get(self, settings: Settings, row: StoredAISettings) -> AIChoice:
        # Everything the choice is built from; the version alone repeats across databases.
        secret_id = (
            str(settings.data_dir),
            row.version,
            row.updated_at,
            row.provider,
            row.model,
            row.base_url,
            row.key_ciphertext,
        )
        with self._lock:
            cached = self._cached
        if cached is not None and cached[0] == secret_id:
            # the redaction list is bounded: the key in use is remembered again on every job,
            # so keys tried on the page never push it off
            remember_secret(cached[2])
            return cached[1]
        key = KeyBox.for_settings(settings).open(row.key_ciphertext) if row.key_ciphertext else None
        remember_secret(key)
        choice = AIChoice(
            row.provider, overrides_for(row.provider, key, row.model, row.base_url), "studio"
        )
        with self._lock:
            self._cached = (secret_id, choice, key)
        return choice


_cache = _ChoiceCache()


class AISettingsService:
    def __init__(self, session: Session, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.repo = AISettingsRepository(session)

    def current_choice(self) -> AIChoice:
        """The provider a job submitted or started now uses (see the module docstring)."""
        if environment_owns_ai(self.settings):
            return AIChoice(self.settings.ai_provider)
        row = self.repo.get()
        if row is None:
            return AIChoice(self.settings.ai_provider)
        return _cache.get(self.settings, row)

    def view(self) -> View:
        s = self.settings
        row = None if environment_owns_ai(s) else self.repo.get()
        if row is not None:
            return View(
                provider=row.provider,
                source="studio",
                editable=True,
                model=row.model,
                base_url=row.base_url,
                key_last4=row.key_last4,
                checked_at=row.checked_at,
            )
        from reels_scripter.providers.registry import provider_options

        model = None
        if s.ai_provider in _FIELDS:
            options = provider_options(s.ai_provider, s)
            model = getattr(options, _FIELDS[s.ai_provider][1], None)
        return View(
            provider=s.ai_provider,
            source="environment" if environment_owns_ai(s) else "default",
            editable=not environment_owns_ai(s),
            model=model,
            base_url=None,
            key_last4=None,
            checked_at=None,
        )

    def change(self, change: Change) -> View:
        """Check the new settings against the AI service and store them; raises an
        `AISettingsError` saying why when the service refuses them."""
        if environment_owns_ai(self.settings):
            raise AISettingsFromEnvironmentError(
                "AI_PROVIDER is set in the environment",
                params={"provider": self.settings.ai_provider},
            )
        key = change.api_key.strip() if change.api_key else None
        model = change.model.strip() if change.model else None
        base_url = change.base_url.strip().rstrip("/") if change.base_url else None
        stored = self.repo.get()
        if (
            key is None
            and stored is not None
            and stored.provider == change.provider
            and (stored.base_url or None) == (base_url or None)
        ):
            # Changing the model keeps the key already saved for this provider and address;
            # a new address needs the key again, or the saved key would be sent to any server
            # a caller names (and be used there for every job).
            key = (
                KeyBox.for_settings(self.settings).open(stored.key_ciphertext)
                if stored.key_ciphertext
                else None
            )
        if change.provider == "local":
            key, model, base_url = None, None, None
        else:
            if change.provider == "gemini":
                base_url = None
                if not key:
                    raise AIKeyRequiredError("Gemini needs an API key")
            remember_secret(key)
            self._check(change.provider, key, model, base_url)
        row = self.repo.save(
            provider=change.provider,
            model=model,
            base_url=base_url,
            key_ciphertext=KeyBox.for_settings(self.settings).seal(key) if key else None,
            key_last4=key[-4:] if key else None,
            now=utcnow(),
        )
        log.info("AI settings changed: provider %s (version %d)", row.provider, row.version)
        return self.view()

    def _check(
        self, provider: str, key: str | None, model: str | None, base_url: str | None
    ) -> None:
        from reels_scripter.providers.registry import get_provider

        overrides = {**overrides_for(provider, key, model, base_url), **_CHECK_OPTIONS[provider]}
        try:
            get_provider(provider, self.settings, overrides).check()
        except ModelNotFoundError as exc:
            raise AIModelUnavailableError(exc.message, params=exc.params) from exc
        except ProviderConfigError as exc:
            if provider == "openai" and not key and base_url is None:
                raise AIKeyRequiredError(exc.message) from exc
            raise AIKeyRejectedError(exc.message) from exc
        except AISettingsError:
            raise
        except ProviderError as exc:
            if provider == "openai" and base_url is not None:
                raise AIServerUnreachableError(exc.message) from exc
            if exc.transient:
                raise AIServiceBusyError(exc.message) from exc
            raise AIKeyRejectedError(exc.message) from exc
