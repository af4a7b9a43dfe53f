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
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from pydantic import SecretStr

job_id_var: ContextVar[str | None] = ContextVar("job_id", default=None)
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
# The request's trace (Cloud Run's X-Cloud-Trace-Context or W3C traceparent): (trace, span).
trace_var: ContextVar[tuple[str, str | None] | None] = ContextVar("trace", default=None)

# An incoming X-Request-ID is reused when it is this tame (it is echoed and logged).
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:/+=-]{1,128}$")
_CLOUD_TRACE = re.compile(r"^([0-9a-fA-F]{32})(?:/(\d{1,20}))?(?:;o=[01])?$")
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")


def incoming_request_id(value: str | None) -> str | None:
    """The client's (or the load balancer's) request id, if it is safe to reuse."""
    if value and _REQUEST_ID.match(value):
        return value
    return None


def parse_trace(cloud: str | None, traceparent: str | None) -> tuple[str, str | None] | None:
    """(trace id, span id as 16 hex digits) from `X-Cloud-Trace-Context: TRACE/SPAN;o=1`
    (the span in decimal there) or W3C `traceparent: 00-TRACE-SPAN-01`; None if neither."""
    if cloud:
        match = _CLOUD_TRACE.match(cloud.strip())
        if match:
            trace, span = match.group(1).lower(), match.group(2)
            return trace, (f"{int(span):016x}"[-16:] if span else None)
    if traceparent:
        match = _TRACEPARENT.match(traceparent.strip().lower())
        if match and match.group(1) != "0" * 32:
            return match.group(1), match.group(2)
    return None


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


# Secrets met at run time (a provider's key read from the environment or the studio's store):
# every RedactFilter hides them too, also those configured before the secret was read.
# Insertion-ordered, bounded: keys tried on the studio's page arrive from outside, and the
# oldest (long replaced) ones are the ones to let go.
_remembered: dict[str, None] = {}
_remembered_lock = threading.Lock()
_MAX_REMEMBERED = 256
# Shorter values are too likely to match ordinary text to be worth hiding.
_MIN_SECRET = 6


def remember_secret(value: str | None) -> None:
    """Hide `value` from every log line and every redacted text from now on."""
    if value and len(value) >= _MIN_SECRET:
        with _remembered_lock:
            # the most recently used last: keys in use are read again and never let go
            _remembered.pop(value, None)
            _remembered[value] = None
            while len(_remembered) > _MAX_REMEMBERED:
                del _remembered[next(iter(_remembered))]


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """`text` with every remembered secret (and `extra`) replaced by ***."""
    for secret in sorted(
        {s for s in (*_remembered, *extra) if len(s) >= _MIN_SECRET}, key=len, reverse=True
    ):
        text = text.replace(secret, "***")
    return text


class RedactFilter(logging.Filter):
    """Replaces configured secrets (API keys, AI keys) with *** wherever they appear.

    Nothing here logs a secret on purpose; this is the net under a library that might
    (an exception message quoting a URL with a key in it, say).
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._configured = {s for s in secrets if len(s) >= _MIN_SECRET}
        self._seen: frozenset[str] = frozenset()
        self._pattern: re.Pattern[str] | None = None

    def _current(self) -> re.Pattern[str] | None:
        known = frozenset(self._configured | _remembered.keys())
        if known != self._seen:
            cleaned = sorted(known, key=len, reverse=True)
            self._pattern = re.compile("|".join(map(re.escape, cleaned))) if cleaned else None
            self._seen = known
        return self._pattern

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = _ACCESS_TOKEN.sub(r"\1***", message) if "access=" in message else message
        pattern = self._current()
        if pattern is not None:
            cleaned = pattern.sub("***", cleaned)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, in the field names Cloud Logging understands; with a Google
    Cloud project, lines logged while serving a traced request carry its trace, so Cloud
    Logging groups them under the request."""

    def __init__(self, project: str | None = None) -> None:
        super().__init__()
        self.project = project

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
        trace = trace_var.get()
        if trace is not None and self.project:
            entry["logging.googleapis.com/trace"] = f"projects/{self.project}/traces/{trace[0]}"
            if trace[1]:
                entry["logging.googleapis.com/spanId"] = trace[1]
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


def logging_config(
    *,
    json_lines: bool,
    level: str,
    secrets: Iterable[str] = (),
    project: str | None = None,
) -> dict[str, Any]:
    """A dictConfig for the app and uvicorn alike, so access lines share one format."""
    formatter: dict[str, Any] = (
        {"()": JsonFormatter, "project": project} if json_lines else {"()": TextFormatter}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": ContextFilter},
            "redact": {"()": RedactFilter, "secrets": list(secrets)},
        },
        "formatters": {"main": formatter},
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
    # Every secret of the service's own settings, by type (providers remember theirs).
    secrets = list(api_keys_of(settings))
    for name in type(settings).model_fields:
        value = getattr(settings, name, None)
        if isinstance(value, SecretStr):
            secrets.append(value.get_secret_value())
    return logging_config(
        json_lines=bool(settings.is_production),
        level=str(settings.log_level),
        secrets=secrets,
        project=getattr(settings, "google_cloud_project_id", None),
    )


def configure_logging(settings: Any) -> None:
    logging.config.dictConfig(service_logging_config(settings))


def api_keys_of(settings: Any) -> list[str]:
    raw = getattr(settings, "api_keys", None) or ""
    return [k.strip() for k in str(raw).split(",") if k.strip()]
