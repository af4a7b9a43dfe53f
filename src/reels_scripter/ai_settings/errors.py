"""What a settings change can be refused for; texts.py words each code for people."""

from __future__ import annotations

from reels_scripter.errors import AppError


class AISettingsError(AppError, http_status=422):
    """A refused change of the studio's AI settings (4xx: the request must change)."""


class AIKeyRequiredError(AISettingsError, code="ai_key_required"):
    """Gemini needs a key, and none was given nor stored."""


class AIKeyRejectedError(AISettingsError, code="ai_key_rejected"):
    """The AI service refused the key (invalid, revoked, or without access)."""


class AIModelUnavailableError(AISettingsError, code="ai_model_unavailable"):
    """The model does not exist (any more) for this key: `params.suggested` lists current ones."""


class AIServerUnreachableError(AISettingsError, code="ai_server_unreachable"):
    """Nothing answered at the given server address (or it answered as no AI server does)."""


class AIServiceBusyError(AISettingsError, code="ai_service_busy", http_status=503, transient=True):
    """The AI service is overloaded or down right now; the same request may pass later."""


class AISettingsFromEnvironmentError(
    AISettingsError, code="ai_settings_from_environment", http_status=409
):
    """AI_PROVIDER is set in the server's environment, which wins over the page."""


class AdminKeyRequiredError(AISettingsError, code="admin_key_required", http_status=403):
    """With API_KEYS on, only ADMIN_API_KEY may change the AI settings."""
