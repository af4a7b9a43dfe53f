"""The service's own pure-ASGI layer around every HTTP request (see `ServiceMiddleware`)."""

from __future__ import annotations

import logging
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reels_scripter.api.errors import app_error_response
from reels_scripter.api.metrics import ApiMetrics
from reels_scripter.errors import InternalError
from reels_scripter.logs import (
    incoming_request_id,
    job_id_var,
    parse_trace,
    request_id_var,
    trace_var,
)

log = logging.getLogger(__name__)


class ServiceMiddleware:
    """One pure-ASGI layer around every HTTP request (one `send` wrapper, not three: the
    status poll is the hot path):

    * a request id, the client's `X-Request-ID` when it sends a tame one, else a new one,
      echoed as `X-Request-ID` and stamped on every log line, with the trace of Cloud Run's
      `X-Cloud-Trace-Context` (or W3C `traceparent`) for JSON logs;
    * latency by route template (not raw path: job ids would make one series per job);
    * a JSON 500 for anything unhandled (Starlette's own handler re-raises after replying,
      which test clients and some servers treat as a crash); the traceback goes to the log.
    """

    def __init__(self, app: ASGIApp, metrics: ApiMetrics, language: str = "ru") -> None:
        self.app = app
        self.requests = metrics.requests
        self.language = language

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given_id = cloud = traceparent = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                given_id = value.decode("latin-1")
            elif name == b"x-cloud-trace-context":
                cloud = value.decode("latin-1")
            elif name == b"traceparent":
                traceparent = value.decode("latin-1")
        request_id = incoming_request_id(given_id) or uuid.uuid4().hex[:16]
        trace = parse_trace(cloud, traceparent) if cloud or traceparent else None
        rid_token = request_id_var.set(request_id)
        job_token = job_id_var.set(None)
        trace_token = trace_var.set(trace)
        id_header = (b"x-request-id", request_id.encode())
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))
            if response_started:
                # Headers are out; the only honest signal left is a cut connection.
                raise
            response = app_error_response(InternalError("unhandled"), self.language)
            await response(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.requests.labels(scope.get("method", ""), template, str(status)).observe(
                time.perf_counter() - started
            )
            trace_var.reset(trace_token)
            job_id_var.reset(job_token)
            request_id_var.reset(rid_token)
