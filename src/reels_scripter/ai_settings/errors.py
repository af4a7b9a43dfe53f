"""What a settings change can be refused for; texts.py words each code for people."""

from __future__ import annotations

from reels_scripter.errors import AppError


class AISettingsError(AppError):
    """A refused change of the studio's AI settings (4xx: the request must change)."""

    http_status = 422


class AIKeyRequiredError(AISettingsError):
    """Gemini needs a key, and none was given nor stored."""

    code = "ai_key_required"


class AIKeyRejectedError(AISettingsError):
    """The AI service refused the key (invalid, revoked, or without access)."""

    code = "ai_key_rejected"


class AIModelUnavailableError(AISettingsError):
    """The model does not exist (any more) for this key: `params.suggested` lists current ones."""

    code = "ai_model_unavailable"


class AIServerUnreachableError(AISettingsError):
    """Nothing answered at the given server address (or it answered as no AI server does)."""

    code = "ai_server_unreachable"


class AIServiceBusyError(AISettingsError):
    """The AI service is overloaded or down right now; the same request may pass later."""

    code = "ai_service_busy"
    http_status = 503
    transient = True


class AISettingsFromEnvironmentError(AISettingsError):
    """AI_PROVIDER is set in the server's environment, which wins over the page."""

    code = "ai_settings_from_environment"
    http_status = 409


class AdminKeyRequiredError(AISettingsError):
    """With API_KEYS on, only ADMIN_API_KEY may change the AI settings."""

    code = "admin_key_required"
    http_status = 403
