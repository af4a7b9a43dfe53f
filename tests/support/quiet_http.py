"""The base of the tests' own HTTP servers (fake AI APIs, a video site): HTTP/1.1 keep-alive
as real servers speak it, and no access log on stderr."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from typing import Any


class QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_payload(self, status: int, kind: str, payload: bytes, body: bool = True) -> None:
        """A whole answer with its Content-Type and Content-Length; the payload itself only
        with `body` (a HEAD request gets the headers alone)."""
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if body:
            self.wfile.write(payload)
