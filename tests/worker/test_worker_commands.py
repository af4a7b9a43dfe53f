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
    assert result.exit_code == 1
    assert "AI provider 'no-such-provider' is not usable" in result.output
    assert "Traceback" not in result.output


def test_lifecycle_needs_gcs(cli: typer.Typer) -> None:
    result = CliRunner().invoke(cli, ["storage", "lifecycle"])
    assert result.exit_code == 1 and "only for GCS" in result.output
