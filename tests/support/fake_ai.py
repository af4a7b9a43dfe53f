"""Real HTTP servers on 127.0.0.1 that speak Gemini / OpenAI to the real SDKs, at their worst.

Answers are generated from the response schema *in the request*, the way constrained decoding
produces them: every required member and nothing optional, every list at its minimum length,
any enum value, null where null is allowed. Modes (`Gen`) make the answer worse still: members
dropped, prose instead of JSON, a tail cut off by the output limit, thought parts, several text
parts, no candidates, blocks and refusals, Russian voice-over lines longer than the syllable
budget each row's schema states (`over_long`). Scripted `Reply`s give HTTP failures (429 with
RetryInfo, 5xx, a proxy's HTML 502, hangs past the client timeout, connection resets).

Requests are checked the way the real API checks them (schema limits, video metadata, model
names, retired models answer 404), every request is recorded for assertions, and an empty
script never drops the connection: the server falls back to `default` (a generated answer, or
whatever the test set), and its own bugs answer 500 and are listed in `internal_errors`.
"""

from __future__ import annotations

import json
import random
import re
import socket
import struct
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from support.quiet_http import QuietHandler

if TYPE_CHECKING:
    import pytest

GEMINI_MODELS = ("gemini-3.5-flash-lite", "gemini-3.8-flash")
GEMINI_RETIRED = ("gemini-2.5-flash", "gemini-2.0-flash", "gemini-1.5-flash")
PROSE = "Конечно! Вот разбор ролика: хук сильный, монтаж динамичный, музыка подходит."


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
    """A scripted HTTP answer: a JSON body, raw bytes (a proxy's page), a hang or a reset."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None  # sent as text/html instead of JSON
    delay: float = 0.0  # seconds before answering (past the client timeout: a hang)
    reset: bool = False  # close the connection with a TCP reset, no answer


@dataclass
class Gen:
    """An answer generated from the request's schema, made worse by the modes asked for."""

    drop: tuple[str, ...] = ()  # dotted paths removed from the answer ("keys.audio", "script.1")
    keep_optional: bool = False  # a decoder may drop every optional member: by default it does
    prose: bool = False  # text that is not JSON
    truncate: float | None = None  # keep this share of the text; finish MAX_TOKENS / length
    english: bool = False  # strings without a Cyrillic letter
    empty_strings: bool = False  # "" for every string (legal under the schema)
    thoughts: bool = False  # a thought part before the answer (Gemini)
    split: int = 1  # the text in this many parts (Gemini)
    no_candidates: bool = False  # Gemini: no candidates; OpenAI: empty choices
    empty_text: bool = False  # a candidate without text (Gemini: no parts; OpenAI: "")
    block: str | None = None  # Gemini promptFeedback.blockReason
    finish: str | None = None  # force a finish reason (Gemini SAFETY, OpenAI content_filter)
    refusal: str | None = None  # OpenAI message.refusal
    content_null: bool = False  # OpenAI message.content null
    no_usage: bool = False
    # Voice-over lines ("script.<id>.text") this many times the syllable budget the row's
    # schema states ("at most N syllables"), in Russian: legal, and too long to say in time.
    over_long: float = 0.0
    over_long_rows: tuple[str, ...] = ()  # only these row ids ("2"); empty: every row


Behaviour = Reply | Gen


class SchemaInstance:
    """The minimal instance a constrained decoder could emit for a JSON schema."""

    def __init__(self, root: dict[str, Any], gen: Gen, rng: random.Random) -> None:
        self.root = root
        self.gen = gen
        self.rng = rng
        self.counter = 0

    def _ref(self, ref: str) -> dict[str, Any]:
        node: Any = self.root
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        return dict(node)

    def string(self, path: tuple[str, ...] = (), parent: dict[str, Any] | None = None) -> str:
        self.counter += 1
        if self.gen.empty_strings:
            return ""
        rows = self.gen.over_long_rows
        if (
            self.gen.over_long
            and path[-3:-2] == ("script",)
            and path[-1] == "text"
            and (not rows or path[-2] in rows)
        ):
            found = re.search(r"at most (\d+) syllables", (parent or {}).get("description", ""))
            budget = int(found.group(1)) if found else 30
            return long_russian_line(max(1, int(budget * self.gen.over_long) + 1))
        return f"answer {self.counter}" if self.gen.english else f"ответ {self.counter}"

    def make(
        self,
        schema: dict[str, Any],
        path: tuple[str, ...] = (),
        parent: dict[str, Any] | None = None,
    ) -> Any:
        if "$ref" in schema:
            return self.make(self._ref(schema["$ref"]), path, parent)
        for union in ("anyOf", "oneOf"):
            if union in schema:
                return self.make(schema[union][0], path, parent)
        if "enum" in schema:
            return self.rng.choice(schema["enum"])
        kind = schema.get("type", "object")
        if isinstance(kind, list):
            if "null" in kind:
                return None
            kind = kind[0]
        kind = str(kind).lower()
        if kind == "object":
            required = set(schema.get("required", []))
            return {
                name: self.make(sub, (*path, name), schema)
                for name, sub in schema.get("properties", {}).items()
                if name in required or self.gen.keep_optional
            }
        if kind == "array":
            count = int(schema.get("minItems", 0))
            return [self.make(schema.get("items", {}), path, parent) for _ in range(count)]
        if kind == "string":
            return self.string(path, parent)
        if kind in ("number", "integer"):
            return schema.get("minimum", 0)
        if kind == "boolean":
            return False
        return None


_LONG_WORDS = ("подробно", "рассказываем", "как", "правильно", "снимать", "видео", "дома")
_RU_VOWELS = set("аеёиоуыэюя")


def long_russian_line(syllables: int) -> str:
    """A Russian line of at least `syllables` syllables (one per vowel letter)."""
    words: list[str] = []
    total = 0
    while total < syllables:
        word = _LONG_WORDS[len(words) % len(_LONG_WORDS)]
        words.append(word)
        total += sum(ch in _RU_VOWELS for ch in word)
    return " ".join(words).capitalize() + "."


def drop_paths(answer: dict[str, Any], paths: tuple[str, ...]) -> None:
    for path in paths:
        node: Any = answer
        *parents, last = path.split(".")
        for name in parents:
            node = node.get(name) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(last, None)


def answer_text(schema: dict[str, Any], gen: Gen, rng: random.Random) -> str:
    if gen.prose:
        return PROSE
    answer = SchemaInstance(schema, gen, rng).make(schema)
    drop_paths(answer, gen.drop)
    text = json.dumps(answer, ensure_ascii=False)
    if gen.truncate is not None:
        text = text[: int(len(text) * gen.truncate)]
    return text


def schema_problem(schema: Any) -> str | None:
    """What the Gemini API refuses in a response schema (as far as is documented)."""
    enums = 0
    bounds = 0

    def walk(node: Any) -> str | None:
        nonlocal enums, bounds
        if isinstance(node, dict):
            if "$ref" in node and any(not k.startswith("$") for k in node):
                return "$ref with sibling keywords"
            if isinstance(node.get("enum"), list):
                enums += len(node["enum"])
            bounds += int(node.get("maxItems", 0))
            for value in node.values():
                problem = walk(value)
                if problem:
                    return problem
        elif isinstance(node, list):
            for value in node:
                problem = walk(value)
                if problem:
                    return problem
        return None

    problem = walk(schema)
    if problem:
        return problem
    if enums > 100:
        return "schema produces a constraint that has too many states for serving (enums)"
    if bounds > 960:
        return "schema produces a constraint that has too many states for serving (maxItems)"
    return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # resets and hangs end in socket errors on purpose


class FakeServer:
    """Base: routing, recording, lifecycle, and never a dropped connection by accident."""

    def __init__(self, seed: int = 0) -> None:
        self.requests: list[Recorded] = []
        self.internal_errors: list[str] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.rng = random.Random(seed)
        fake = self

        class Handler(QuietHandler):
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
                try:
                    reply = fake.route(rec)
                except Exception as exc:  # a bug in the fake: answer, never hang up
                    fake.internal_errors.append(f"{type(exc).__name__}: {exc}")
                    reply = Reply(500, {"error": {"code": 500, "message": f"fake bug: {exc}"}})
                if reply.delay:
                    fake.stopping.wait(reply.delay)
                if reply.reset:
                    # SO_LINGER 0: close() sends a TCP reset, as a dropped proxy connection does.
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.connection.close()
                    self.close_connection = True
                    return
                if reply.raw is not None:
                    body, kind = reply.raw, "text/html"
                else:
                    body = b"" if reply.body is None else json.dumps(reply.body).encode()
                    kind = "application/json"
                self.send_response(reply.status)
                self.send_header("Content-Type", kind)
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
            self.stopping.set()
            self.httpd.shutdown()
            self.httpd.server_close()


def google_error(code: int, status: str, message: str, details: list[Any] | None = None) -> Any:
    return {"error": {"code": code, "status": status, "message": message, "details": details or []}}


def retry_info(delay: str) -> dict[str, str]:
    return {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}


PROXY_502 = Reply(502, raw=b"<html><body><h1>502 Bad Gateway</h1>nginx</body></html>")


class FakeGemini(FakeServer):
    """models.get, models:generateContent, resumable Files upload, files get/delete."""

    def __init__(
        self,
        models: tuple[str, ...] = GEMINI_MODELS,
        retired: tuple[str, ...] = GEMINI_RETIRED,
        seed: int = 0,
    ) -> None:
        super().__init__(seed)
        self.models = set(models)
        self.retired = set(retired)
        self.retired_status = 404  # a retired model is also seen answering 429
        # When set, any other key is refused as Google does (400 INVALID_ARGUMENT with reason
        # API_KEY_INVALID); None accepts every key.
        self.valid_keys: set[str] | None = None
        self.script: list[Behaviour] = []  # one per generateContent call, then `default`
        self.default: Behaviour = Gen()
        self.prompt_tokens = 1000
        self.output_tokens = 200
        self.thought_tokens = 0
        self.file_states: list[str] = ["ACTIVE"]  # state after upload, then per files.get
        self.file_error = "Video codec not supported"
        self.upload_resets = 0  # this many upload chunk requests are reset
        self.files: dict[str, dict[str, Any]] = {}
        self.uploaded: dict[str, int] = {}
        self.deleted: list[str] = []
        self.answers: list[str] = []  # every generated answer text, in order
        self._sessions: dict[str, dict[str, Any]] = {}
        # An outage: when set, every request (the model check included) gets this answer.
        self.outage: Reply | None = None

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

    def _model_missing(self, model: str) -> Reply | None:
        if model in self.models:
            return None
        message = (
            f"models/{model} is not found for API version v1beta, or is not supported for "
            "generateContent. Call ListModels to see the list of available models."
        )
        if model in self.retired and self.retired_status == 429:
            return Reply(429, google_error(429, "RESOURCE_EXHAUSTED", message))
        return Reply(404, google_error(404, "NOT_FOUND", message))

    def _check_request(self, body: Any) -> str | None:
        config = body.get("generationConfig", {})
        if "responseSchema" in config and "responseJsonSchema" in config:
            return "responseSchema and responseJsonSchema cannot both be set"
        if "responseJsonSchema" in config and config.get("responseMimeType") != "application/json":
            return "responseJsonSchema needs responseMimeType application/json"
        schema = config.get("responseSchema")
        if schema is not None and "additionalProperties" in json.dumps(schema):
            return 'Unknown name "additionalProperties" at generation_config.response_schema'
        problem = schema_problem(config.get("responseJsonSchema") or schema)
        if problem:
            return problem
        for content in body.get("contents", []):
            for part in content.get("parts", []):
                meta = part.get("videoMetadata")
                if meta is None:
                    continue
                if "inlineData" not in part and "fileData" not in part:
                    return "videoMetadata is only valid with inlineData or fileData"
                fps = meta.get("fps", 1.0)
                if not 0 < fps <= 24:
                    return f"videoMetadata.fps must be in (0, 24], got {fps}"
                for name in ("start_offset", "end_offset", "startOffset", "endOffset"):
                    if name in meta and not re.fullmatch(r"\d+(\.\d+)?s", str(meta[name])):
                        return f"invalid duration {meta[name]!r}"
        return None

    def _generate(self, body: Any) -> Reply:
        problem = self._check_request(body)
        if problem:
            return Reply(400, google_error(400, "INVALID_ARGUMENT", problem))
        behaviour = self.script.pop(0) if self.script else self.default
        if isinstance(behaviour, Reply):
            return behaviour
        gen = behaviour
        usage: dict[str, Any] = {
            "promptTokenCount": self.prompt_tokens,
            "candidatesTokenCount": self.output_tokens,
            "totalTokenCount": self.prompt_tokens + self.output_tokens + self.thought_tokens,
        }
        if self.thought_tokens:
            usage["thoughtsTokenCount"] = self.thought_tokens
        reply: dict[str, Any] = {"modelVersion": "fake", "responseId": uuid.uuid4().hex[:8]}
        if not gen.no_usage:
            reply["usageMetadata"] = usage
        if gen.block:
            reply["promptFeedback"] = {"blockReason": gen.block}
            return Reply(200, reply)
        if gen.no_candidates:
            return Reply(200, reply)
        config = body.get("generationConfig", {})
        schema = config.get("responseJsonSchema") or config.get("responseSchema") or {}
        text = answer_text(schema, gen, self.rng)
        self.answers.append(text)
        finish = gen.finish or ("MAX_TOKENS" if gen.truncate is not None else "STOP")
        parts: list[dict[str, Any]] = []
        if gen.thoughts:
            parts.append({"text": "Let me look at the first seconds first.", "thought": True})
        if not gen.empty_text and finish not in ("SAFETY", "PROHIBITED_CONTENT", "RECITATION"):
            size = max(1, -(-len(text) // gen.split))
            parts += [{"text": text[i : i + size]} for i in range(0, len(text), size)]
        reply["candidates"] = [
            {"content": {"role": "model", "parts": parts}, "finishReason": finish, "index": 0}
        ]
        return Reply(200, reply)

    def _key_refused(self, rec: Recorded) -> Reply | None:
        if self.valid_keys is None or rec.headers.get("x-goog-api-key") in self.valid_keys:
            return None
        return Reply(
            400,
            google_error(
                400,
                "INVALID_ARGUMENT",
                "API key not valid. Please pass a valid API key.",
                [
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": "API_KEY_INVALID",
                        "domain": "googleapis.com",
                    }
                ],
            ),
        )

    def route(self, rec: Recorded) -> Reply:
        path = rec.path.split("?")[0]
        with self.lock:
            if self.outage is not None:
                return self.outage
            refused = self._key_refused(rec)
            if refused is not None:
                return refused
            m = re.fullmatch(r"/v[^/]+/models/([^/:]+):generateContent", path)
            if m and rec.method == "POST":
                missing = self._model_missing(m.group(1))
                return missing or self._generate(rec.json or {})
            m = re.fullmatch(r"/v[^/]+/models/([^/:]+)", path)
            if m and rec.method == "GET":
                missing = self._model_missing(m.group(1))
                return missing or Reply(
                    200, {"name": f"models/{m.group(1)}", "displayName": m.group(1)}
                )
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
                s = self._sessions.get(m.group(1))
                if s is None:
                    return Reply(404, google_error(404, "NOT_FOUND", "no such upload session"))
                if self.upload_resets > 0 and s["received"] > 0:
                    # The connection breaks midway: after the first chunk arrived.
                    self.upload_resets -= 1
                    return Reply(reset=True)
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


def strict_schema_problem(schema: Any, where: str = "()") -> str | None:
    """OpenAI's strict mode: every object lists every property as required, no extra ones."""
    if isinstance(schema, dict):
        if schema.get("type") == "object" or "properties" in schema:
            props = list(schema.get("properties", {}))
            if schema.get("additionalProperties") is not False:
                return f"In context={where}, 'additionalProperties' is required to be false"
            if sorted(schema.get("required", [])) != sorted(props):
                return (
                    f"In context={where}, 'required' is required to be supplied and to be an "
                    "array including every key in properties"
                )
        for name, value in schema.items():
            problem = strict_schema_problem(value, f"{where}.{name}")
            if problem:
                return problem
    elif isinstance(schema, list):
        for value in schema:
            problem = strict_schema_problem(value, where)
            if problem:
                return problem
    return None


GEMINI_KEY = "AIzaSy-good-test-key-7Q2x"  # the one key the `gemini` fixture's fake accepts
# What would send the google-genai SDK elsewhere than the fake (Vertex AI, another key or API
# version): cleared while a test talks to the fake.
GEMINI_SDK_ENV = (
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_GENAI_USE_ENTERPRISE",
    "GOOGLE_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_GENAI_API_VERSION",
)


@contextmanager
def serve_gemini(
    monkeypatch: pytest.MonkeyPatch, valid_keys: set[str] | None = None
) -> Iterator[FakeGemini]:
    """A running FakeGemini that the real SDK reaches, here and in any process started
    meanwhile (GOOGLE_GEMINI_BASE_URL points at it); with `valid_keys`, other keys are refused.
    On a normal exit it asserts the fake answered every request itself (no bug of its own)."""
    server = FakeGemini()
    server.valid_keys = valid_keys
    for name in GEMINI_SDK_ENV:
        monkeypatch.delenv(name, raising=False)
    with server.running():
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", server.url)
        yield server
    assert server.internal_errors == []


class FakeOpenAI(FakeServer):
    """/v1/chat/completions, /v1/models and /v1/models/{id}.

    `valid_keys`: when set, any other bearer key gets OpenAI's 401 `invalid_api_key`; a local
    server (Ollama, llama.cpp) leaves it None and takes any key or none.
    """

    def __init__(self, models: tuple[str, ...] = ("gpt-4o-mini",), seed: int = 0) -> None:
        super().__init__(seed)
        self.models = set(models)
        self.valid_keys: set[str] | None = None
        # Ollama: a model listed as `name:latest` also answers to `name`.
        self.ollama_names = False
        self.script: list[Behaviour] = []
        self.default: Behaviour = Gen()
        self.reject_json_schema = False
        self.answers: list[str] = []

    def chat_calls(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    @staticmethod
    def _prompt_schema(body: Any) -> dict[str, Any]:
        """json_object mode: the schema the client wrote into the prompt, if any."""
        for message in body.get("messages", []):
            content = message.get("content")
            for part in content if isinstance(content, list) else []:
                text = part.get("text", "") if isinstance(part, dict) else ""
                if text.startswith("Response JSON schema: "):
                    loaded: dict[str, Any] = json.loads(text.removeprefix("Response JSON schema: "))
                    return loaded
        return {}

    def _complete(self, body: Any) -> Reply:
        model = body.get("model")
        known = model in self.models or (self.ollama_names and f"{model}:latest" in self.models)
        if not known:
            return Reply(
                404,
                {
                    "error": {
                        "message": f"The model `{body.get('model')}` does not "
                        "exist or you do not have access to it."
                    }
                },
            )
        fmt = body.get("response_format") or {}
        if fmt.get("type") == "json_schema":
            if self.reject_json_schema:
                err = {"message": "response_format json_schema is not supported", "type": "x"}
                return Reply(400, {"error": err})
            spec = fmt.get("json_schema", {})
            problem = strict_schema_problem(spec.get("schema")) if spec.get("strict") else None
            if problem:
                reason = f"Invalid schema for response_format '{spec.get('name')}': {problem}"
                return Reply(400, {"error": {"message": reason, "type": "invalid_request_error"}})
            schema = spec.get("schema", {})
        else:
            schema = self._prompt_schema(body)
        behaviour = self.script.pop(0) if self.script else self.default
        if isinstance(behaviour, Reply):
            return behaviour
        gen = behaviour
        reply: dict[str, Any] = {
            "id": "chatcmpl-" + uuid.uuid4().hex[:8],
            "object": "chat.completion",
            "created": 1,
            "model": body.get("model"),
            "choices": [],
        }
        if not gen.no_usage:
            reply["usage"] = {"prompt_tokens": 900, "completion_tokens": 300, "total_tokens": 1200}
        if gen.no_candidates:
            return Reply(200, reply)
        text: str | None = answer_text(schema, gen, self.rng)
        self.answers.append(text or "")
        finish = gen.finish or ("length" if gen.truncate is not None else "stop")
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if gen.refusal is not None:
            message = {"role": "assistant", "content": None, "refusal": gen.refusal}
        elif gen.content_null or finish == "content_filter":
            message["content"] = None
        elif gen.empty_text:
            message["content"] = ""
        reply["choices"] = [{"index": 0, "message": message, "finish_reason": finish}]
        return Reply(200, reply)

    def route(self, rec: Recorded) -> Reply:
        path = rec.path.split("?")[0]
        with self.lock:
            if self.valid_keys is not None:
                auth = rec.headers.get("authorization", "")
                if auth.removeprefix("Bearer ") not in self.valid_keys:
                    return Reply(
                        401,
                        {
                            "error": {
                                "message": "Incorrect API key provided.",
                                "type": "invalid_request_error",
                                "code": "invalid_api_key",
                            }
                        },
                    )
            if path == "/v1/chat/completions" and rec.method == "POST":
                return self._complete(rec.json or {})
            if path == "/v1/models" and rec.method == "GET":
                listed = [
                    {"id": name, "object": "model", "created": 1, "owned_by": "test"}
                    for name in sorted(self.models)
                ]
                return Reply(200, {"object": "list", "data": listed})
            m = re.fullmatch(r"/v1/models/(.+)", path)
            if m and rec.method == "GET":
                if m.group(1) in self.models:
                    return Reply(
                        200, {"id": m.group(1), "object": "model", "created": 1, "owned_by": "test"}
                    )
                return Reply(404, {"error": {"message": f"model {m.group(1)} not found"}})
            return Reply(404, {"error": {"message": "no route"}})
