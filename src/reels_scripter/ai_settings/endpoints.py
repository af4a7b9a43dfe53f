"""`GET`/`PUT /api/settings/ai`: the studio's «Подключить ИИ» panel talks to these."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import anyio.to_thread
import httpx
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel
from sqlalchemy.orm import Session

from reels_scripter.ai_settings.crypto import StoredKeyUnreadableError
from reels_scripter.ai_settings.errors import (
    AdminKeyRequiredError,
    AIKeyRejectedError,
    AIKeyRequiredError,
    AIModelUnavailableError,
    AIServerUnreachableError,
    AIServiceBusyError,
    AISettingsFromEnvironmentError,
)
from reels_scripter.ai_settings.service import AISettingsService, Change, View
from reels_scripter.api.deps import ServicesDep, SessionDep
from reels_scripter.api.errors import UnauthorizedError, error_responses
from reels_scripter.api.security import is_admin

router = APIRouter(prefix="/api/settings", tags=["settings"])


class AISettingsIn(BaseModel):
    """What the panel sends. An empty `apiKey` keeps the key already saved for the provider."""

    model_config = ConfigDict(extra="forbid")

    provider: Literal["gemini", "openai", "local"]
    apiKey: str | None = Field(None, max_length=512)
    model: str | None = Field(None, max_length=200)
    baseUrl: str | None = Field(
        None, max_length=500, description="OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1"
    )

    @field_validator("baseUrl")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if not value:
            return value
        if not value.strip().lower().startswith(("http://", "https://")):
            raise ValueError("baseUrl must start with http:// or https://")
        # what the OpenAI SDK's HTTP client will parse: a malformed address is the caller's
        # mistake (422), not a crash when the check builds the client
        try:
            url = httpx.URL(value.strip())
        except (httpx.InvalidURL, ValueError) as exc:  # IDNA errors are ValueErrors
            raise ValueError(f"baseUrl is not a valid address: {exc}") from None
        if not url.host or " " in value.strip() or not 0 < (url.port or 80) < 65536:
            raise ValueError("baseUrl needs a host (and a port from 1 to 65535)")
        return value

    @field_validator("apiKey")
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        # API keys are printable ASCII; anything else cannot travel in an HTTP header (the
        # SDKs would fail encoding it: a 500 instead of the caller's mistake)
        if value and not (value.strip().isascii() and value.strip().isprintable()):
            raise ValueError("apiKey must be printable ASCII text")
        return value


class AISettingsOut(BaseModel):
    """The AI in use for new jobs. The key itself is never returned: only its last 4
    characters."""

    provider: str = Field(description="gemini, openai or local (no AI: the offline engine)")
    status: Literal["connected", "not_connected", "environment"] = Field(
        description="environment: set by the server's AI_PROVIDER, which wins over the page"
    )
    source: Literal["environment", "studio", "default"]
    editable: bool = Field(description="false when the environment decides (PUT answers 409)")
    model: str | None = None
    base_url: str | None = None
    key_last4: str | None = None
    checked_at: datetime | None = None

    # camelCase on the wire, read from the service's `View` by attribute
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    @classmethod
    def of(cls, view: View) -> AISettingsOut:
        return cls.model_validate(view, from_attributes=True)


async def _reader(request: Request, services: ServicesDep) -> None:
    """With API_KEYS on: any API key, or the admin key."""
    if services.api_keys.enabled and not _admin(request, services):
        services.api_keys.owner_for(request)  # raises 401 for no or an unknown key


async def _admin_only(request: Request, services: ServicesDep) -> None:
    """With API_KEYS on, only ADMIN_API_KEY may change the AI settings (403 otherwise)."""
    if services.api_keys.enabled and not _admin(request, services):
        raise AdminKeyRequiredError("ADMIN_API_KEY is required to change the AI settings")


def _admin(request: Request, services: ServicesDep) -> bool:
    admin = services.settings.admin_api_key
    return is_admin(request, admin.get_secret_value() if admin is not None else None)


@router.get(
    "/ai",
    response_model=AISettingsOut,
    responses=error_responses(UnauthorizedError),
    dependencies=[Depends(_reader)],
    summary="The AI new jobs use (never the key: its last 4 characters)",
)
async def get_ai_settings(services: ServicesDep, session: SessionDep) -> AISettingsOut:
    def read(session: Session) -> AISettingsOut:
        return AISettingsOut.of(AISettingsService(session, services.settings).view())

    return await anyio.to_thread.run_sync(read, session)


@router.put(
    "/ai",
    response_model=AISettingsOut,
    responses=error_responses(
        AIKeyRequiredError,
        AIKeyRejectedError,
        AIModelUnavailableError,
        AIServerUnreachableError,
        AIServiceBusyError,
        AISettingsFromEnvironmentError,
        StoredKeyUnreadableError,
        AdminKeyRequiredError,
    ),
    dependencies=[Depends(_admin_only)],
    summary="Connect an AI: the key is checked with the AI service at once, then stored "
    "encrypted; new jobs use it without a restart",
)
async def put_ai_settings(
    body: AISettingsIn, services: ServicesDep, session: SessionDep
) -> AISettingsOut:
    change = Change(
        provider=body.provider, api_key=body.apiKey, model=body.model, base_url=body.baseUrl
    )

    def save(session: Session) -> AISettingsOut:
        view = AISettingsService(session, services.settings).change(change)
        session.commit()
        return AISettingsOut.of(view)

    return await anyio.to_thread.run_sync(save, session)
