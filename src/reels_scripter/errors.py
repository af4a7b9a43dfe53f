"""The one error root. Every error raised on purpose by any layer derives from `AppError`.

An error carries:
- `code`: a stable English identifier that clients branch on and that never changes once
  published (`too_long`, `ai_failed`, `job_not_found`, ...);
- `message`: an English, technical one-liner for logs and developers (it may name limits,
  codecs or providers, never secrets);
- `params`: the figures behind the message (`duration`, `limit`, ...), so the text a person
  reads can be rendered in their language from `reels_scripter.texts` without parsing English;
- `transient`: whether trying the same work again later may succeed;
- `http_status`: what the API answers when the error reaches a request.

Stdlib only: the sandboxed probe child imports this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class AppError(Exception):
    """Base of every deliberate error. A subclass names what differs from its base in its
    header -- `class TooLargeError(InputError, code="too_large", http_status=413)` -- and
    inherits the rest."""

    code: str = "internal_error"
    http_status: int = 500
    transient: bool = False

    def __init_subclass__(
        cls,
        *,
        code: str | None = None,
        http_status: int | None = None,
        transient: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code
        if http_status is not None:
            cls.http_status = http_status
        if transient is not None:
            cls.transient = transient

    def __init__(
        self,
        message: str,
        *,
        transient: bool | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if transient is not None:
            self.transient = transient
        self.params: dict[str, Any] = dict(params or {})

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r})"


class InternalError(AppError, code="internal_error"):
    """Something we did not plan for; the details go to the log, not to the person."""


class ServiceUnavailableError(AppError, code="unavailable", http_status=503, transient=True):
    """A dependency (database, broker, worker) is down; the same request may work later."""


class DatabaseUnavailableError(ServiceUnavailableError, code="database_unavailable"): ...


class ConnectionProblemError(ServiceUnavailableError, code="connection_error"): ...


class JobTimeoutError(AppError, code="timeout"): ...


class WorkerLostError(AppError, code="worker_lost"):
    """The worker running the job died (SIGKILL, OOM, deploy) too many times."""


def one_line(message: str, limit: int = 300) -> str:
    """Errors end up in logs and job rows: one line, bounded, no tracebacks."""
    text = " ".join(str(message).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
