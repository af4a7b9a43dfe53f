"""Real HTTP servers on 127.0.0.1 that speak just enough Gemini / OpenAI for the real SDKs.

They record every request (method, path, headers, JSON body, arrival time) so tests assert on
what went over the wire, and they answer from queues the test fills.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    json: Any
    size: int
    at: float


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class FakeServer:
    """Base: routing, recording, lifecycle."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                parsed: Any = None
                if raw and "upload-session" not in self.path:
                    try:
                        parsed = json.loads(raw)
                    except ValueError:
                        parsed = None
                rec = Recorded(
                    method=self.command,
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    json=parsed,
                    size=len(raw),
                    at=time.monotonic(),
                )
                with fake.lock:
                    fake.requests.append(rec)
                reply = fake.route(rec)
                body = b"" if reply.body is None else json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_DELETE = _handle

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        # A short poll interval keeps shutdown (once per test) from costing half a second.
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def route(self, rec: Recorded) -> Reply:
        raise NotImplementedError

    @contextmanager
    def running(self) -> Iterator[FakeServer]:
        self.thread.start()
        try:
            yield self
        finally:
            self.httpd.shutdown()
            self.httpd.server_close()


def google_error(code: int, status: str, message: str, details: list[Any] | None = None) -> Any:
    return {"error": {"code": code, "status": status, "message": message, "details": details or []}}


def retry_info(delay: str) -> dict[str, str]:
    return {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}


def gemini_text(text: str, finish: str = "STOP", prompt: int = 1000, output: int = 200) -> Any:
    return {
        "candidates": [
            {"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": finish}
        ],
        "usageMetadata": {
            "promptTokenCount": prompt,
            "candidatesTokenCount": output,
            "totalTokenCount": prompt + output,
        },
        "modelVersion": "gemini-2.5-flash",
    }


class FakeGemini(FakeServer):
    """models.get, models:generateContent, resumable Files upload, files get/delete."""

    def __init__(self, models: tuple[str, ...] = ("gemini-2.5-flash",)) -> None:
        super().__init__()
        self.models = set(models)
        self.generate_replies: list[Reply] = []
        self.file_states: list[str] = ["ACTIVE"]  # state after upload, then per files.get
        self.file_error = "Video codec not supported"
        self.files: dict[str, dict[str, Any]] = {}
        self.uploaded: dict[str, int] = {}
        self.deleted: list[str] = []
        self._sessions: dict[str, dict[str, Any]] = {}

    # -- helpers for tests
    def generate_calls(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.split("?")[0].endswith(":generateContent")]

    def _file_state(self) -> str:
        return self.file_states.pop(0) if len(self.file_states) > 1 else self.file_states[0]

    def _file_json(self, file_id: str) -> dict[str, Any]:
        f = dict(self.files[file_id])
        if f["state"] == "FAILED":
            f["error"] = {"code": 400, "message": self.file_error}
        return f

    def route(self, rec: Recorded) -> Reply:
        path = rec.path.split("?")[0]
        with self.lock:
            m = re.fullmatch(r"/v[^/]+/models/([^/:]+):generateContent", path)
            if m and rec.method == "POST":
                if m.group(1) not in self.models:
                    return Reply(404, google_error(404, "NOT_FOUND", "model not found"))
                if not self.generate_replies:
                    return Reply(500, google_error(500, "INTERNAL", "no scripted reply"))
                reply = self.generate_replies[0]
                if len(self.generate_replies) > 1:
                    self.generate_replies.pop(0)
                return reply
            m = re.fullmatch(r"/v[^/]+/models/([^/:]+)", path)
            if m and rec.method == "GET":
                if m.group(1) in self.models:
                    return Reply(200, {"name": f"models/{m.group(1)}", "displayName": m.group(1)})
                msg = f"models/{m.group(1)} is not found for API version v1"
                return Reply(404, google_error(404, "NOT_FOUND", msg))
            if re.fullmatch(r"/upload/v[^/]+/files", path) and rec.method == "POST":
                session = uuid.uuid4().hex[:10]
                self._sessions[session] = {
                    "meta": rec.json or {},
                    "expected": int(rec.headers.get("x-goog-upload-header-content-length", 0)),
                    "mime": rec.headers.get("x-goog-upload-header-content-type"),
                    "received": 0,
                }
                return Reply(
                    200,
                    {},
                    {
                        "x-goog-upload-url": f"{self.url}upload-session/{session}",
                        "x-goog-upload-status": "active",
                    },
                )
            m = re.fullmatch(r"/upload-session/(\w+)", path)
            if m:
                s = self._sessions[m.group(1)]
                s["received"] += rec.size
                if "finalize" not in rec.headers.get("x-goog-upload-command", ""):
                    return Reply(200, None, {"x-goog-upload-status": "active"})
                file_id = uuid.uuid4().hex[:12]
                self.uploaded[f"files/{file_id}"] = s["received"]
                self.files[file_id] = {
                    "name": f"files/{file_id}",
                    "mimeType": s["mime"],
                    "sizeBytes": str(s["received"]),
                    "uri": f"{self.url}v1beta/files/{file_id}",
                    "state": self._file_state(),
                }
                return Reply(
                    200, {"file": self._file_json(file_id)}, {"x-goog-upload-status": "final"}
                )
            m = re.fullmatch(r"/v[^/]+/files/(\w+)", path)
            if m and m.group(1) in self.files:
                if rec.method == "DELETE":
                    self.deleted.append(f"files/{m.group(1)}")
                    del self.files[m.group(1)]
                    return Reply(200, {})
                self.files[m.group(1)]["state"] = self._file_state()
                return Reply(200, self._file_json(m.group(1)))
            return Reply(404, google_error(404, "NOT_FOUND", f"no route {rec.method} {path}"))


def openai_text(text: str, finish: str = "stop") -> Any:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": finish,
            }
        ],
        "usage": {"prompt_tokens": 900, "completion_tokens": 300, "total_tokens": 1200},
    }


class FakeOpenAI(FakeServer):
    """/v1/chat/completions and /v1/models/{id}."""

    def __init__(self, models: tuple[str, ...] = ("gpt-4o-mini",)) -> None:
        super().__init__()
        self.models = set(models)
        self.replies: list[Reply] = []
        self.reject_json_schema = False

    def chat_calls(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def route(self, rec: Recorded) -> Reply:
        path = rec.path.split("?")[0]
        with self.lock:
            if path == "/v1/chat/completions" and rec.method == "POST":
                fmt = (rec.json or {}).get("response_format", {}).get("type")
                if self.reject_json_schema and fmt == "json_schema":
                    err = {"message": "response_format json_schema is not supported", "type": "x"}
                    return Reply(400, {"error": err})
                reply = self.replies[0]
                if len(self.replies) > 1:
                    self.replies.pop(0)
                return reply
            m = re.fullmatch(r"/v1/models/(.+)", path)
            if m and rec.method == "GET":
                if m.group(1) in self.models:
                    return Reply(
                        200, {"id": m.group(1), "object": "model", "created": 1, "owned_by": "test"}
                    )
                return Reply(404, {"error": {"message": f"model {m.group(1)} not found"}})
            return Reply(404, {"error": {"message": "no route"}})
