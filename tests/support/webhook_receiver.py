"""A real HTTP(S) webhook receiver on 127.0.0.1 that checks signatures itself (used by
the `receiver` fixture in tests/webhooks/conftest.py).

It answers with a scripted list of statuses (the last one repeats) and records every request.
The signature is recomputed here with hmac/hashlib, independently of reels_scripter.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

SECRET = "whsec-test-3c1f9a"


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool


@dataclass
class Receiver:
    port: int
    scheme: str
    requests: list[Received] = field(default_factory=list)

    def url(self, host: str = "127.0.0.1", path: str = "/hook?token=abc") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"


def handler_for(
    receiver: Receiver,
    script: list[tuple[int, dict[str, str]]],
    delay_sec: float,
    secret: str,
) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            given = self.headers.get("X-Reels-Signature", "")
            with lock:
                receiver.requests.append(
                    Received(
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                        hmac.compare_digest(expected, given),
                    )
                )
                status, headers = script[min(len(receiver.requests), len(script)) - 1]
            if delay_sec:
                time.sleep(delay_sec)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    return Handler
