"""Bounded request headers: 431 for a request whose headers are too many or too large.

uvicorn's httptools parser (the default when installed) has no size limit of its own, and
h11's applies only where h11 is chosen; without a bound a 20 MB header or 5,000 headers were
parsed into every request's scope and answered 200. This pure-ASGI layer sits outermost, so
no other layer (logging, auth, the router) sees such a request. The limits are far above what
a browser or an API client sends (a few KB; a Cloud Run request allows 32 KiB of headers).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from reels_scripter.api.errors import HeadersTooLargeError, app_error_response

MAX_HEADER_BYTES = 32 * 1024  # names and values together
MAX_HEADER_COUNT = 100


class HeaderLimitMiddleware:
    def __init__(self, app: ASGIApp, language: str = "ru") -> None:
        self.app = app
        self.language = language

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope["headers"]
            total = sum(len(name) + len(value) for name, value in headers)
            if len(headers) > MAX_HEADER_COUNT or total > MAX_HEADER_BYTES:
                error = HeadersTooLargeError(
                    detail=f"At most {MAX_HEADER_COUNT} headers and {MAX_HEADER_BYTES} bytes "
                    "of headers per request."
                )
                await app_error_response(error, self.language)(scope, receive, send)
                return
        await self.app(scope, receive, send)
