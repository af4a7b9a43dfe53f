"""Logging for the service: JSON lines in production, readable lines otherwise.

Every record carries `job_id` and `request_id` from context variables, so a line logged
anywhere while handling a job (the API's upload, the worker's stages) can be found by the
job's id without threading it through every call. The worker binds the job id around
each task the same way.
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

job_id_var: ContextVar[str | None] = ContextVar("job_id", default=None)
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# Attributes every LogRecord has; anything else passed via `extra=` is printed as a field.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "job_id",
    "request_id",
}


@contextmanager
def bind_job_id(job_id: str | None) -> Iterator[None]:
    token = job_id_var.set(job_id)
    try:
        yield
    finally:
        job_id_var.reset(token)


class ContextFilter(logging.Filter):
    """Stamps the current job and request ids onto every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.job_id = job_id_var.get()
        record.request_id = request_id_var.get()
        return True


# The studio's signed links (`?access=<token>`) are credentials for a few minutes: access log
# lines keep the path and drop the token.
_ACCESS_TOKEN = re.compile(r"([?&]access=)[^&\s\"']+")


class RedactFilter(logging.Filter):
    """Replaces configured secrets (API keys, AI keys) with *** wherever they appear.

    Nothing here logs a secret on purpose; this is the net under a library that might
    (an exception message quoting a URL with a key in it, say).
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        cleaned = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, cleaned))) if cleaned else None

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = _ACCESS_TOKEN.sub(r"\1***", message) if "access=" in message else message
        if self._pattern is not None:
            cleaned = self._pattern.sub("***", cleaned)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, in the field names Cloud Logging understands."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "severity": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("job_id", "request_id"):
            value = getattr(record, key, None)
            if value:
                entry[key] = value
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s%(ids)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        ids = ""
        job_id = getattr(record, "job_id", None)
        if job_id:
            ids += f" [job {job_id}]"
        request_id = getattr(record, "request_id", None)
        if request_id:
            ids += f" [req {request_id}]"
        record.ids = ids
        return super().format(record)


def logging_config(*, json_lines: bool, level: str, secrets: Iterable[str] = ()) -> dict[str, Any]:
    """A dictConfig for the app and uvicorn alike, so access lines share one format."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": ContextFilter},
            "redact": {"()": RedactFilter, "secrets": list(secrets)},
        },
        "formatters": {"main": {"()": JsonFormatter if json_lines else TextFormatter}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "main",
                "filters": ["context", "redact"],
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": True},
            # migrations log every plugin they load at INFO; only problems are news
            "alembic": {"level": "WARNING"},
        },
    }


def service_logging_config(settings: Any) -> dict[str, Any]:
    """The dictConfig for `Settings` (NODE_ENV, LOG_LEVEL, the secrets to redact)."""
    secrets = list(api_keys_of(settings))
    for name in ("google_ai_api_key", "openai_api_key", "webhook_secret", "url_signing_secret"):
        value = getattr(settings, name, None)
        if value is not None:
            secrets.append(value.get_secret_value())
    return logging_config(
        json_lines=bool(settings.is_production), level=str(settings.log_level), secrets=secrets
    )


def configure_logging(settings: Any) -> None:
    logging.config.dictConfig(service_logging_config(settings))


def api_keys_of(settings: Any) -> list[str]:
    raw = getattr(settings, "api_keys", None) or ""
    return [k.strip() for k in str(raw).split(",") if k.strip()]
