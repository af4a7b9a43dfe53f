"""The one pinned test-settings factory.

Every setting the service reads from the environment that could change what a test exercises
is pinned here, so a developer's shell or `.env` never leaks in: embedded defaults (SQLite,
SQLite broker, local storage, the local AI provider), no API keys, no rate limit, and AI retry
timings shrunk to milliseconds. A test overrides only what it is about.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reels_scripter.config import Settings

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379"

PINNED: dict[str, Any] = {
    # backends: embedded
    "DATABASE_URL": None,
    "REDIS_URL": None,
    "STORAGE_BACKEND": "local",
    "GOOGLE_CLOUD_BUCKET_NAME": None,
    "STORAGE_EMULATOR_HOST": None,
    # AI: offline unless a test says otherwise; fake keys so a provider test never needs a real one
    "AI_PROVIDER": "local",
    "AI_FALLBACK": None,
    "GOOGLE_AI_API_KEY": "test-key-123",
    "OPENAI_API_KEY": "sk-test",
    "OPENAI_BASE_URL": None,
    "GEMINI_USE_VERTEXAI": False,
    "AI_RETRY_BASE_DELAY_SEC": 0.01,
    "AI_RETRY_MAX_DELAY_SEC": 0.05,
    "AI_RETRY_TOTAL_SEC": 20.0,
    "GEMINI_RPM": 1000,
    "OPENAI_RPM": 1000,
    "GEMINI_FILE_POLL_SEC": 0.02,
    "GEMINI_MAX_RETRIES": 3,
    "OPENAI_MAX_RETRIES": 3,
    "GEMINI_TIMEOUT_SEC": 10,
    "OPENAI_TIMEOUT_SEC": 10,
    # HTTP API
    "API_KEYS": None,
    "FRONTEND_URL": None,
    "NODE_ENV": "development",
    "UPLOAD_RATE_LIMIT": "",
    "TARGET_LANGUAGE": "ru",
    "WHISPER_MODEL": None,
    "URL_SIGNING_SECRET": None,
    "WEBHOOK_URL": None,
    "WEBHOOK_SECRET": None,
}


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a test, with DATA_DIR at `data_dir` and `overrides` by env name."""
    values = {**PINNED, "DATA_DIR": data_dir, **overrides}
    return Settings(_env_file=None, **values)
