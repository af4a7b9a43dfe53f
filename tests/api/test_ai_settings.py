"""«Подключить ИИ»: `GET`/`PUT /api/settings/ai` against fake AI servers through the real SDKs,
on SQLite and PostgreSQL. The key is checked at once, refused in Russian with the reason, stored
encrypted, never returned or logged, and used by the next job without a restart."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from reels_scripter.ai_settings.crypto import SECRET_FILE, KeyBox
from reels_scripter.ai_settings.service import AISettingsService
from reels_scripter.api.app import create_app
from reels_scripter.config import Settings
from reels_scripter.db import get_engine, session_factory, upgrade_database
from reels_scripter.jobs.service import settings_fingerprint
from reels_scripter.logs import redact, remember_secret
from support.fake_ai import GEMINI_KEY, FakeGemini, FakeOpenAI
from support.settings import make_settings

GOOD_OPENAI_KEY = "sk-proj-good-test-key-9Zk4"


@pytest.fixture
def openai_server() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI(models=("gpt-4o-mini", "gpt-4.1-mini"))
    server.valid_keys = {GOOD_OPENAI_KEY}
    with server.running():
        yield server
    assert server.internal_errors == []


@pytest.fixture
def make_ai_client(db_settings: Settings) -> Iterator[Callable[..., TestClient]]:
    """A client on `db_settings`' database (SQLite, PostgreSQL) with `env` on top."""
    clients: list[TestClient] = []

    def factory(**env: Any) -> TestClient:
        settings = make_settings(db_settings.data_dir, DATABASE_URL=db_settings.database_url, **env)
        upgrade_database(settings)
        client = TestClient(create_app(settings), raise_server_exceptions=False)
        clients.append(client)
        return client

    yield factory
    for c in clients:
        c.close()


def _assert_refusal(resp: Any, status: int, code: str) -> str:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["code"] == code
    error: str = body["error"]
    assert any("а" <= ch <= "я" for ch in error.lower()), error  # for people, in Russian
    assert error.endswith("."), error
    for name in ("GEMINI", "OPENAI", "AI_PROVIDER", "README", "API_KEY"):
        assert name not in error
    return error


def _stored_row(settings: Settings) -> Any:
    with get_engine(settings).connect() as conn:
        return conn.execute(text("SELECT * FROM ai_settings")).mappings().first()


@pytest.fixture
def gemini_client(
    make_ai_client: Callable[..., TestClient], gemini: FakeGemini, caplog: pytest.LogCaptureFixture
) -> TestClient:
    """A client with the fake Gemini up and every log line, DEBUG included, captured: no key
    may ever be logged."""
    caplog.set_level(logging.DEBUG)
    return make_ai_client()


def test_a_bad_or_retired_gemini_key_is_refused_in_russian_and_nothing_is_stored(
    gemini_client: TestClient,
    db_settings: Settings,
    gemini: FakeGemini,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = gemini_client
    wrong = "AIzaSy-wrong-key-000111"
    resp = client.put("/api/settings/ai", json={"provider": "gemini", "apiKey": wrong})
    error = _assert_refusal(resp, 422, "ai_key_rejected")
    assert "Ключ не подошёл" in error
    assert wrong not in resp.text

    retired = client.put(
        "/api/settings/ai",
        json={"provider": "gemini", "apiKey": GEMINI_KEY, "model": "gemini-2.5-flash"},
    )
    error = _assert_refusal(retired, 422, "ai_model_unavailable")
    assert "gemini-3.5-flash-lite" in error  # the suggestion: a current model to choose

    empty = client.put("/api/settings/ai", json={"provider": "gemini"})
    _assert_refusal(empty, 422, "ai_key_required")
    # every check went through the SDK to the fake's models.get
    gets = [r for r in gemini.requests if r.method == "GET" and "/models/" in r.path]
    assert len(gets) == 2
    assert {r.headers.get("x-goog-api-key") for r in gets} == {wrong, GEMINI_KEY}

    assert _stored_row(db_settings) is None
    assert client.get("/api/settings/ai").json()["status"] == "not_connected"
    for key in (wrong, GEMINI_KEY):
        assert key not in caplog.text


def test_a_good_gemini_key_is_stored_encrypted_shown_by_its_last_4_and_used_by_new_jobs(
    gemini_client: TestClient, db_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    client = gemini_client
    before = client.get("/api/settings/ai").json()
    assert before["provider"] == "local" and before["status"] == "not_connected"
    assert before["editable"] is True

    resp = client.put(
        "/api/settings/ai",
        json={"provider": "gemini", "apiKey": f"  {GEMINI_KEY} ", "model": "gemini-3.8-flash"},
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["provider"] == "gemini" and body["status"] == "connected"
    assert body["keyLast4"] == GEMINI_KEY[-4:]
    assert body["model"] == "gemini-3.8-flash"
    assert GEMINI_KEY not in resp.text
    shown = client.get("/api/settings/ai")
    assert shown.json() == body and GEMINI_KEY not in shown.text

    row = _stored_row(db_settings)
    cipher = bytes(row["key_ciphertext"])
    assert GEMINI_KEY.encode() not in cipher and GEMINI_KEY[-8:].encode() not in cipher
    assert KeyBox.for_settings(db_settings).open(cipher) == GEMINI_KEY
    with pytest.raises(Exception, match="cannot be decrypted"):
        KeyBox(b"another server's secret").open(cipher)
    secret_file = db_settings.data_dir / SECRET_FILE
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600

    # What a new job gets (the worker and the upload read the same): the stored provider
    # with the stored key, and a fingerprint of its own, so no earlier local result is reused.
    with session_factory(db_settings)() as session:
        choice = AISettingsService(session, db_settings).current_choice()
    assert choice.name == "gemini" and choice.source == "studio"
    provider = choice.provider(db_settings)
    assert provider.model == "gemini-3.8-flash"
    key = provider.options.google_ai_api_key  # type: ignore[attr-defined]
    assert key.get_secret_value() == GEMINI_KEY
    assert settings_fingerprint(db_settings, choice) != settings_fingerprint(db_settings)

    # The redaction list is bounded; keys tried on the page come and go, but the key in use
    # is remembered again by every job that reads the (cached) choice.
    for n in range(300):
        remember_secret(f"tried-on-the-page-{n:04d}")
    with session_factory(db_settings)() as session:
        AISettingsService(session, db_settings).current_choice()
    assert GEMINI_KEY not in redact(f"key={GEMINI_KEY}")

    # the model changes without pasting the key again; "local" disconnects
    again = client.put(
        "/api/settings/ai", json={"provider": "gemini", "model": "gemini-3.5-flash-lite"}
    )
    assert again.status_code == 200, again.text
    assert again.json()["keyLast4"] == GEMINI_KEY[-4:]
    off = client.put("/api/settings/ai", json={"provider": "local"})
    assert off.status_code == 200 and off.json()["status"] == "not_connected"
    assert _stored_row(db_settings)["key_ciphertext"] is None
    assert GEMINI_KEY not in caplog.text


def test_openai_keys_and_servers_are_checked_with_get_models(
    make_ai_client: Callable[..., TestClient], openai_server: FakeOpenAI
) -> None:
    client = make_ai_client()
    base = openai_server.url + "v1"
    bad = client.put(
        "/api/settings/ai",
        json={"provider": "openai", "apiKey": "sk-wrong-123456", "baseUrl": base},
    )
    _assert_refusal(bad, 422, "ai_key_rejected")
    missing = client.put(
        "/api/settings/ai",
        json={"provider": "openai", "apiKey": GOOD_OPENAI_KEY, "baseUrl": base, "model": "gpt-9"},
    )
    error = _assert_refusal(missing, 422, "ai_model_unavailable")
    assert "gpt-4.1-mini" in error  # what the server does list
    nobody = client.put(
        "/api/settings/ai",
        json={"provider": "openai", "apiKey": GOOD_OPENAI_KEY, "baseUrl": "http://127.0.0.1:9/v1"},
    )
    _assert_refusal(nobody, 422, "ai_server_unreachable")
    listed = [r for r in openai_server.requests if r.path == "/v1/models"]
    assert len(listed) == 2  # one GET /models per check that reached the server

    ok = client.put(
        "/api/settings/ai",
        json={"provider": "openai", "apiKey": GOOD_OPENAI_KEY, "baseUrl": base + "/"},
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["baseUrl"] == base and ok.json()["model"] is None
    non_ascii = client.put("/api/settings/ai", json={"provider": "gemini", "apiKey": "\u00a1"})
    assert non_ascii.status_code == 422 and non_ascii.json()["code"] == "validation_error"
    for malformed in ("ftp://x", "http://[::1/v1", "http://", "http://127.0.0.1:99999/v1"):
        bad_url = client.put("/api/settings/ai", json={"provider": "openai", "baseUrl": malformed})
        assert bad_url.status_code == 422, (malformed, bad_url.text)
        assert bad_url.json()["code"] == "validation_error"

    # The saved key is reused when only the model changes, never sent to a new address:
    # another server (an attacker's that answers /models) must be given a key of its own.
    other = FakeOpenAI()
    with other.running():
        moved = client.put(
            "/api/settings/ai", json={"provider": "openai", "baseUrl": other.url + "v1"}
        )
        sent = [r.headers.get("authorization") for r in other.requests]
    assert f"Bearer {GOOD_OPENAI_KEY}" not in sent
    assert moved.status_code == 200 and moved.json()["keyLast4"] is None
    same = client.put(
        "/api/settings/ai",
        json={"provider": "openai", "apiKey": GOOD_OPENAI_KEY, "baseUrl": base},
    )
    assert same.status_code == 200
    model_only = client.put(
        "/api/settings/ai", json={"provider": "openai", "baseUrl": base, "model": "gpt-4.1-mini"}
    )
    assert model_only.status_code == 200, model_only.text
    assert model_only.json()["keyLast4"] == GOOD_OPENAI_KEY[-4:]


def test_a_local_ollama_style_server_needs_no_key(
    make_ai_client: Callable[..., TestClient], db_settings: Settings
) -> None:
    """The offline route: an OpenAI-compatible server on this machine (Ollama, llama.cpp),
    which takes any key or none and lists its models as `name:latest`."""
    ollama = FakeOpenAI(models=("llama3.2-vision:latest", "qwen2.5vl:7b"))
    ollama.ollama_names = True
    with ollama.running():
        client = make_ai_client()
        resp = client.put(
            "/api/settings/ai",
            json={"provider": "openai", "baseUrl": ollama.url + "v1", "model": "llama3.2-vision"},
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["keyLast4"] is None
        auth = [r.headers.get("authorization") for r in ollama.requests]
        assert auth == ["Bearer not-needed"]  # the SDK's placeholder, never a real key
    with session_factory(db_settings)() as session:
        choice = AISettingsService(session, db_settings).current_choice()
    provider = choice.provider(db_settings)
    assert (choice.name, provider.model) == ("openai", "llama3.2-vision")
    assert provider.options.openai_base_url == ollama.url + "v1"  # type: ignore[attr-defined]
    # the pinned OPENAI_API_KEY of the environment is not sent to the studio's server
    assert provider.options.openai_api_key is None  # type: ignore[attr-defined]


def test_with_api_keys_only_the_admin_key_may_change_the_ai(
    make_ai_client: Callable[..., TestClient], gemini: FakeGemini
) -> None:
    body = {"provider": "gemini", "apiKey": GEMINI_KEY}
    no_admin = make_ai_client(API_KEYS="user-key-123456")
    user = {"X-API-Key": "user-key-123456"}
    assert no_admin.get("/api/settings/ai", headers=user).status_code == 200
    assert no_admin.get("/api/settings/ai").status_code == 401
    _assert_refusal(
        no_admin.put("/api/settings/ai", json=body, headers=user), 403, "admin_key_required"
    )
    _assert_refusal(no_admin.put("/api/settings/ai", json=body), 403, "admin_key_required")

    client = make_ai_client(API_KEYS="user-key-123456", ADMIN_API_KEY="admin-key-654321")
    _assert_refusal(
        client.put("/api/settings/ai", json=body, headers=user), 403, "admin_key_required"
    )
    wrong = {"Authorization": "Bearer admin-key-000000"}
    _assert_refusal(
        client.put("/api/settings/ai", json=body, headers=wrong), 403, "admin_key_required"
    )
    assert gemini.requests == []  # refused before any check reached the AI service
    admin = {"Authorization": "Bearer admin-key-654321"}
    ok = client.put("/api/settings/ai", json=body, headers=admin)
    assert ok.status_code == 200, ok.text
    assert client.get("/api/settings/ai", headers=admin).json()["status"] == "connected"


def test_the_environments_ai_provider_wins_and_says_so(
    make_ai_client: Callable[..., TestClient], gemini: FakeGemini, db_settings: Settings
) -> None:
    client = make_ai_client(AI_PROVIDER="gemini")
    shown = client.get("/api/settings/ai").json()
    assert (shown["provider"], shown["status"], shown["editable"]) == (
        "gemini",
        "environment",
        False,
    )
    assert shown["keyLast4"] is None  # the environment's key is not shown either
    resp = client.put("/api/settings/ai", json={"provider": "gemini", "apiKey": GEMINI_KEY})
    _assert_refusal(resp, 409, "ai_settings_from_environment")
    assert _stored_row(db_settings) is None


def test_the_secret_file_is_created_once_0600_and_secret_key_wins(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    box = KeyBox.for_settings(settings)
    token = box.seal("sk-some-key-1234")
    path = tmp_path / "data" / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = path.read_bytes()
    assert KeyBox.for_settings(make_settings(tmp_path / "data")).open(token) == "sk-some-key-1234"
    assert path.read_bytes() == first
    configured = make_settings(tmp_path / "other", SECRET_KEY="a-long-configured-secret")
    sealed = KeyBox.for_settings(configured).seal("sk-x-123456")
    assert KeyBox(b"a-long-configured-secret").open(sealed) == "sk-x-123456"
    assert not (tmp_path / "other" / SECRET_FILE).exists()
