from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from reels_scripter.config import get_settings
from reels_scripter.worker.commands import storage_app, worker


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[typer.Typer]:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("STORAGE_BACKEND", "local")
    for name in ("DATABASE_URL", "REDIS_URL", "GOOGLE_CLOUD_BUCKET_NAME"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    app = typer.Typer()
    app.command()(worker)
    app.add_typer(storage_app, name="storage")
    yield app
    get_settings.cache_clear()


def test_worker_with_a_wrong_provider_fails_at_start(
    cli: typer.Typer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AI_PROVIDER", "no-such-provider")
    get_settings.cache_clear()
    result = CliRunner().invoke(cli, ["worker"])
    assert result.exit_code == 78  # EX_CONFIG: a setting to fix, not worth restarting
    assert "AI provider 'no-such-provider' is not usable" in result.output
    assert "Traceback" not in result.output
    # the API learns why from the workers table (its uploads then answer 503)
    from reels_scripter.db import session_factory
    from reels_scripter.worker import presence

    with session_factory(get_settings())() as session:
        health = presence.health(session, 30)
    assert not health.can_run_jobs and health.failure is not None
    assert health.failure.cause == "ai_provider"
    assert "no-such-provider" in health.check()


def test_worker_with_an_unknown_speech_model_fails_at_start(
    cli: typer.Typer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AI_PROVIDER", "local")
    monkeypatch.setenv("WHISPER_MODEL", "no-such-model")
    get_settings.cache_clear()
    result = CliRunner().invoke(cli, ["worker"])
    assert result.exit_code == 78
    assert "WHISPER_MODEL='no-such-model'" in result.output and "Traceback" not in result.output


def test_lifecycle_needs_gcs(cli: typer.Typer) -> None:
    result = CliRunner().invoke(cli, ["storage", "lifecycle"])
    assert result.exit_code == 1 and "only for GCS" in result.output
