"""Fault run: the service on real Redis and PostgreSQL under faults, and the figures it keeps.

Not part of CI (it takes minutes and most of two cores). Everything runs on 127.0.0.1: a
private `redis-server` on a free port (with an append-only file, as in docker compose), a
fresh database on the local PostgreSQL (dropped at the end), the API (`reels-scripter serve
--no-worker`) and workers (`reels-scripter worker`) as separate processes, with the recovery
settings at their defaults. Then:

1. concurrent uploads (more than MAX_CONCURRENT_UPLOADS at once: refused ones retry after
   `Retry-After`), which become the backlog;
2. slow clients beside them: stalled ones and 1-byte-a-second tricklers (408s, no temp file);
3. worker SIGKILLs mid-job behind that backlog (the process group, as a container kill; a
   replacement starts at once, as a restarting container), timing each job's recovery;
4. Redis restarts (SIGTERM, AOF kept), with uploads while it is down;
4b. a broker that forgets: a second Redis without persistence (`--appendonly no --save ""`,
   as Memorystore Basic tier) restarted under a backlog of `--backlog` jobs: every job that
   was waiting must start within 60 s of the broker's return, none lost, none run twice;
5. every accepted job must end: lost (not finished), duplicated (completed more than once),
   failed, and how many losses each counted;
6. the embedded mode: `reels-scripter serve` on SQLite, its worker SIGKILLed a few times:
   restart time (kill to the new worker's consumer ready) and a running job's recovery;
7. schemathesis against the API on SQLite and PostgreSQL (tests/api/test_schema_fuzz.py).

    PYTHONPATH=tests .venv/bin/python scripts/fault_run.py [--jobs 40] [--kills 8] ...

Prints a report (and writes it as JSON with --json PATH).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
BOUNDARY = b"faultb0undary"
FTYP = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --------------------------------------------------------------------------- processes


class Proc:
    """A process in a group of its own: killing the group takes its pool children too."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self.popen = subprocess.Popen(
            cmd,
            env=env,
            cwd=log_dir,
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        with suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)
        try:
            self.popen.wait(timeout=30 if sig != signal.SIGKILL else 10)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def text(self) -> str:
        return self.log_path.read_text(errors="replace")


class Redis:
    def __init__(self, work: Path, *, persist: bool = True, name: str = "redis") -> None:
        self.port = free_port()
        self.dir = work / name
        self.dir.mkdir()
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"
        # without: as Memorystore Basic tier runs, a restart comes back empty
        self.persist = persist

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--dir",
                str(self.dir),
                "--appendonly",
                "yes" if self.persist else "no",
                "--save",
                "",
            ],
            stdout=(self.dir / "redis.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: flushes the append-only file
            self.proc.wait(timeout=20)


@contextmanager
def postgres_database() -> Iterator[str]:
    import psycopg

    name = f"reels_fault_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        from reels_scripter.db.engine import dispose_engines

        dispose_engines()
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --------------------------------------------------------------------------- videos


def make_videos(work: Path, count: int) -> list[Path]:
    """`count` reels with distinct bytes (no deduplication) and the same analysis: one short
    reel plus a trailing ISO-BMFF `free` box of random bytes each."""
    from support.reelgen import make_reel

    base = make_reel(work / "base.mp4", duration=3.0, cuts=(1.5,), width=64, height=112, fps=10)
    data = base.read_bytes()
    out = []
    for i in range(count):
        path = work / f"reel-{i:03d}.mp4"
        path.write_bytes(data + (16).to_bytes(4, "big") + b"free" + os.urandom(8))
        out.append(path)
    return out


# --------------------------------------------------------------------------- clients


@dataclass
class Uploads:
    accepted: list[str] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)  # code -> times (retried)
    errors: Counter[str] = field(default_factory=Counter)  # not accepted in the end
    lock: threading.Lock = field(default_factory=threading.Lock)


def upload_with_retries(base: str, path: Path, uploads: Uploads, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with path.open("rb") as f:
                resp = httpx.post(base + "/api/upload", files={"video": (path.name, f)}, timeout=60)
        except httpx.HTTPError as exc:
            with uploads.lock:
                uploads.refused[type(exc).__name__] += 1
            time.sleep(0.5)
            continue
        if resp.status_code == 200:
            with uploads.lock:
                uploads.accepted.append(resp.json()["jobId"])
            return
        code = resp.json().get("code", str(resp.status_code))
        with uploads.lock:
            uploads.refused[code] += 1
        if resp.status_code != 503:
            with uploads.lock:
                uploads.errors[code] += 1
            return
        time.sleep(min(float(resp.headers.get("retry-after", "1")), 1.0))
    with uploads.lock:
        uploads.errors["deadline"] += 1


def slow_client(port: int, trickle: bool, results: list[tuple[str, float]]) -> None:
    """An upload that stalls after 8 KB (or trickles a byte every 0.5 s): the server must
    cut it off with 408."""
    head = (
        b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="video"; filename="s.mp4"'
        b"\r\nContent-Type: video/mp4\r\n\r\n"
    )
    body = head + FTYP + bytes(8192 - len(head) - len(FTYP))
    request = (
        b"POST /api/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; "
        b"boundary=" + BOUNDARY + b"\r\nContent-Length: 5000000\r\n\r\n"
    )
    started = time.monotonic()
    reply = b""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            sock.sendall(request + body)
            sock.settimeout(0.5 if trickle else 60)
            while b"\r\n\r\n" not in reply and time.monotonic() - started < 60:
                try:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    reply += chunk
                except TimeoutError:
                    if trickle:
                        sock.sendall(b"\x00")
    except OSError as exc:
        results.append((f"error {type(exc).__name__}", time.monotonic() - started))
        return
    status = reply.split(b" ", 2)[1].decode() if reply.startswith(b"HTTP/") else "none"
    results.append((status, time.monotonic() - started))


# --------------------------------------------------------------------------- the DB side


def job_rows(settings: Any) -> dict[str, dict[str, Any]]:
    from sqlalchemy import text

    from reels_scripter.db import get_engine

    with get_engine(settings).connect() as conn:
        rows = conn.execute(
            text(
                "SELECT id, state, lost_count, attempts, claimed_by, error_code, "
                "result IS NOT NULL AS has_result FROM jobs"
            )
        ).mappings()
        return {r["id"]: dict(r) for r in rows}


class RecoveryWatch(threading.Thread):
    """Polls the jobs table: when does a job whose worker was killed run again? Also keeps
    the most temp upload files seen at once (the bound on concurrent uploads)."""

    def __init__(self, settings: Any, tmp_dir: Path) -> None:
        super().__init__(daemon=True)
        self.settings = settings
        self.tmp_dir = tmp_dir
        self.kills: list[tuple[str, float, int]] = []  # (job, killed at, losses before)
        self.recovered: dict[int, float] = {}  # kill index -> seconds
        self.max_temp_files = 0
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def watch(self, job_id: str, killed_at: float, losses: int) -> None:
        with self.lock:
            self.kills.append((job_id, killed_at, losses))

    def run(self) -> None:
        while not self.stop.wait(0.25):
            parts = len(list(self.tmp_dir.glob("upload-*.part"))) if self.tmp_dir.is_dir() else 0
            self.max_temp_files = max(self.max_temp_files, parts)
            with self.lock:
                pending = [(i, k) for i, k in enumerate(self.kills) if i not in self.recovered]
            if not pending:
                continue
            try:
                rows = job_rows(self.settings)
            except Exception as exc:  # the database blinked: poll again
                log(f"watch: {type(exc).__name__}")
                continue
            now = time.monotonic()
            for i, (job_id, killed_at, losses) in pending:
                row = rows.get(job_id)
                if row is not None and row["lost_count"] > losses and row["state"] != "waiting":
                    self.recovered[i] = now - killed_at


class Stack(NamedTuple):
    pg_url: str
    env: dict[str, str]  # the environment of every service process
    settings: Any  # the service's Settings
    port: int  # the API's
    procs: list[Proc]  # the API first; a run adds its workers


@contextmanager
def production_stack(
    redis: Redis, logs: Path, data_dir: Path, max_uploads: int, **settings: str
) -> Iterator[Stack]:
    """The production shape running: `redis` started, a fresh PostgreSQL database migrated,
    the API (`serve --no-worker`) on a free port, logging under `logs`, with local storage, the
    offline provider, no upload rate limit, INFO logs and `settings`. On the way out every
    process stops (the API with SIGTERM, the rest killed), then Redis."""
    from reels_scripter.config import Settings
    from reels_scripter.db import upgrade_database

    redis.start()
    logs.mkdir()
    procs: list[Proc] = []
    try:
        with postgres_database() as pg_url:
            env = service_env(
                data_dir,
                REDIS_URL=redis.url,
                DATABASE_URL=pg_url,
                STORAGE_BACKEND="local",
                AI_PROVIDER="local",
                UPLOAD_RATE_LIMIT="",
                MAX_CONCURRENT_UPLOADS=str(max_uploads),
                LOG_LEVEL="INFO",
                **settings,
            )
            service = Settings(
                _env_file=None, DATABASE_URL=pg_url, DATA_DIR=data_dir, REDIS_URL=redis.url
            )
            upgrade_database(service)
            port = free_port()
            serve = [str(BIN / "reels-scripter"), "serve", "--no-worker", "--host", "127.0.0.1"]
            procs.append(Proc("api", [*serve, "--port", str(port)], env, logs))
            yield Stack(pg_url, env, service, port, procs)
    finally:
        for proc in procs:
            proc.kill(signal.SIGTERM if proc.name == "api" else signal.SIGKILL)
        redis.stop()


def service_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a service process: this one's less every setting the service reads
    (so nothing from the caller's shell leaks in), the venv's bin first on PATH, DATA_DIR and
    `settings`."""
    from reels_scripter.providers.registry import all_env_names

    names = set(all_env_names())
    base = {k: v for k, v in os.environ.items() if k not in names}
    return {
        **base,
        "PATH": f"{BIN}{os.pathsep}{base.get('PATH', '')}",
        "DATA_DIR": str(data_dir),
        **settings,
    }


# --------------------------------------------------------------------------- phases


def production_run(args: argparse.Namespace, work: Path, report: dict[str, Any]) -> None:
    redis = Redis(work)
    logs = work / "logs"
    with production_stack(
        redis,
        logs,
        work / "data",
        args.max_uploads,
        UPLOAD_IDLE_TIMEOUT_SEC="3",
        UPLOAD_DEADLINE_SEC="15",
        # slows each job to a few seconds so kills land mid-job (recovery: defaults)
        JOB_PROGRESS_DELAY_SEC="0.2",
    ) as (pg_url, env, settings, port, procs):
        base = f"http://127.0.0.1:{port}"
        workers: list[Proc] = []
        started = Counter[str]()

        def start_worker() -> Proc:
            proc = Proc(
                f"worker-{started.total()}", [str(BIN / "reels-scripter"), "worker"], env, logs
            )
            started["worker"] += 1
            workers.append(proc)
            procs.append(proc)
            return proc

        for _ in range(args.workers):
            start_worker()
        wait_ready(base, timeout=90)
        log(f"API on {base}, {args.workers} workers, Redis on {redis.port}, {pg_url}")

        videos = make_videos(work, args.jobs + 3 * args.redis_restarts)
        uploads = Uploads()
        deadline = time.monotonic() + args.budget
        threads = [
            threading.Thread(
                target=upload_with_retries, args=(base, v, uploads, deadline), daemon=True
            )
            for v in videos[: args.jobs]
        ]
        slow: list[tuple[str, float]] = []
        slow_threads = [
            threading.Thread(target=slow_client, args=(port, i % 3 == 0, slow), daemon=True)
            for i in range(args.slow_clients)
        ]
        watch = RecoveryWatch(settings, work / "data" / "tmp")
        watch.start()
        t0 = time.monotonic()
        # the slow clients first: they take upload slots, the uploads then wait for them
        for t in slow_threads:
            t.start()
        time.sleep(0.5)
        for t in threads:
            t.start()
        kills: list[dict[str, Any]] = []
        restarts: list[float] = []
        extra = iter(videos[args.jobs :])
        kill_every = max(args.kill_interval, 1.0)
        next_kill = t0 + 8
        redis_at = [t0 + 12 + i * 25 for i in range(args.redis_restarts)]
        while time.monotonic() < deadline:
            now = time.monotonic()
            if len(kills) < args.kills and now >= next_kill:
                victim = pick_victim(settings, workers)
                if victim is not None:
                    proc, job_id, losses = victim
                    killed_at = time.monotonic()
                    proc.kill(signal.SIGKILL)
                    watch.watch(job_id, killed_at, losses)
                    kills.append({"job": job_id, "worker": proc.name, "at": killed_at - t0})
                    workers.remove(proc)
                    start_worker()  # a restarting container
                    log(f"SIGKILL {proc.name} running {job_id[:8]} (kill {len(kills)})")
                    next_kill = now + kill_every
                else:
                    next_kill = now + 0.5
            if redis_at and now >= redis_at[0]:
                redis_at.pop(0)
                down = time.monotonic()
                redis.stop()
                log("Redis stopped")
                # uploads while the broker is down: accepted, sent by the next sweep
                for _ in range(3):
                    video = next(extra, None)
                    if video is not None:
                        upload_with_retries(base, video, uploads, time.monotonic() + 20)
                time.sleep(max(0.0, 2.0 - (time.monotonic() - down)))
                redis.start()
                restarts.append(time.monotonic() - down)
                log(f"Redis restarted after {restarts[-1]:.1f} s")
            uploads_done = all(not t.is_alive() for t in threads)
            if uploads_done and len(kills) >= args.kills and not redis_at:
                rows = job_rows(settings)
                ids = set(uploads.accepted)
                if all(rows.get(j, {}).get("state") in ("completed", "failed") for j in ids):
                    break
            time.sleep(0.2)
        elapsed = time.monotonic() - t0
        watch.stop.set()
        for t in slow_threads:
            t.join(timeout=5)
        rows = job_rows(settings)
        worker_logs = "\n".join(p.text() for p in procs if p.name.startswith("worker"))
        leftover_parts = list((work / "data" / "tmp").glob("upload-*.part"))

    accepted = list(dict.fromkeys(uploads.accepted))
    states = Counter(rows.get(j, {}).get("state", "missing") for j in accepted)
    lost = [j for j in accepted if rows.get(j, {}).get("state") not in ("completed", "failed")]
    completions = Counter(
        re.findall(r"\[job ([0-9a-f-]{36})\][^\n]*completed with provider", worker_logs)
    )
    duplicated = [j for j, n in completions.items() if n > 1]
    no_result = [
        j
        for j in accepted
        if rows.get(j, {}).get("state") == "completed" and not rows[j]["has_result"]
    ]
    recovery = sorted(watch.recovered.values())
    report["production"] = {
        "elapsed_s": round(elapsed, 1),
        "workers": args.workers,
        "uploads_accepted": len(accepted),
        "uploads_refused_then_retried": dict(uploads.refused),
        "uploads_failed": dict(uploads.errors),
        "jobs_by_state": dict(states),
        "jobs_lost": len(lost),
        "jobs_duplicated": len(duplicated),
        "completed_without_result": len(no_result),
        "failed_codes": dict(
            Counter(
                rows[j]["error_code"] for j in accepted if rows.get(j, {}).get("state") == "failed"
            )
        ),
        "losses_counted": dict(Counter(rows.get(j, {}).get("lost_count", 0) for j in accepted)),
        "max_attempts_used": max((rows.get(j, {}).get("attempts", 0) for j in accepted), default=0),
        "sigkills": len(kills),
        "recovered": len(recovery),
        "recovery_s": {
            "median": round(statistics.median(recovery), 1) if recovery else None,
            "max": round(max(recovery), 1) if recovery else None,
            "all": [round(r, 1) for r in recovery],
            "target_max": 60,
        },
        "redis_restarts": len(restarts),
        "redis_downtime_s": [round(r, 1) for r in restarts],
        "slow_clients": dict(Counter(status for status, _ in slow)),
        "slow_client_cut_after_s": {
            "max": round(max((t for s, t in slow if s == "408"), default=0), 1)
        },
        "max_concurrent_uploads": args.max_uploads,
        "max_temp_upload_files_at_once": watch.max_temp_files,
        "temp_upload_files_left": len(leftover_parts),
    }


def broker_forgets_run(args: argparse.Namespace, work: Path, report: dict[str, Any]) -> None:
    """Redis without persistence restarted under a backlog: it comes back empty while the
    database has jobs `waiting`. Every one of them must start within 60 s of the broker's
    return (the sweeper sees the loss and re-sends them), none lost, none run twice."""
    from sqlalchemy import text

    from reels_scripter.db import get_engine

    redis = Redis(work, persist=False, name="redis-volatile")
    logs = work / "logs-broker"
    with production_stack(
        redis,
        logs,
        work / "data-broker",
        args.max_uploads,
        # jobs of a few seconds: the backlog is still queued when Redis restarts
        JOB_PROGRESS_DELAY_SEC=str(args.broker_job_delay),
    ) as (_, env, settings, port, procs):
        base = f"http://127.0.0.1:{port}"
        for i in range(args.workers):
            procs.append(Proc(f"worker-{i}", [str(BIN / "reels-scripter"), "worker"], env, logs))
        wait_ready(base, timeout=90)
        log(f"broker scenario: {args.workers} workers, volatile Redis on {redis.port}")
        videos = make_videos(work / "data-broker", args.backlog)
        uploads = Uploads()
        deadline = time.monotonic() + 120
        threads = [
            threading.Thread(
                target=upload_with_retries, args=(base, v, uploads, deadline), daemon=True
            )
            for v in videos
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        accepted = list(dict.fromkeys(uploads.accepted))
        log(f"{len(accepted)} uploads accepted; restarting Redis (no persistence)")
        redis.stop()
        down = time.monotonic()
        time.sleep(2.0)
        redis.start()
        returned = time.monotonic()
        returned_wall = time.time()
        engine = get_engine(settings)
        with engine.connect() as conn:
            waiting = [
                r[0]
                for r in conn.execute(
                    text("SELECT id FROM jobs WHERE state = 'waiting' ORDER BY created_at")
                )
            ]
        log(f"Redis back after {returned - down:.1f} s; {len(waiting)} jobs waiting")
        started_after: dict[str, float] = {}
        finish_by = returned + args.budget
        while time.monotonic() < finish_by:
            with engine.connect() as conn:
                rows = conn.execute(
                    text("SELECT id, state, EXTRACT(EPOCH FROM started_at) AS started FROM jobs")
                ).mappings()
                by_id: dict[str, Any] = {r["id"]: dict(r) for r in rows}
            for job_id in waiting:
                row = by_id.get(job_id)
                if job_id not in started_after and row is not None and row["started"]:
                    started_after[job_id] = float(row["started"]) - returned_wall
            states = [(by_id.get(j) or {}).get("state") for j in accepted]
            done = all(state in ("completed", "failed") for state in states)
            if done:
                break
            time.sleep(0.5)
        with engine.connect() as conn:
            final = {r[0]: r[1] for r in conn.execute(text("SELECT id, state FROM jobs"))}
        worker_logs = "\n".join(p.text() for p in procs if p.name.startswith("worker"))

    completions = Counter(
        re.findall(r"\[job ([0-9a-f-]{36})\][^\n]*completed with provider", worker_logs)
    )
    waits = sorted(started_after.values())
    lost = [j for j in accepted if final.get(j) not in ("completed", "failed")]
    report["broker_forgets"] = {
        "workers": args.workers,
        "uploads_accepted": len(accepted),
        "waiting_when_broker_returned": len(waiting),
        "waiting_jobs_started": len(started_after),
        "start_after_return_s": {
            # the first: when the re-sent messages reached the workers (recovery itself)
            "first": round(min(waits), 1) if waits else None,
            "median": round(statistics.median(waits), 1) if waits else None,
            "max": round(max(waits), 1) if waits else None,
            "target_max": 60,
        },
        "all_started_within_60_s": bool(waiting)
        and len(waits) == len(waiting)
        and all(w <= 60 for w in waits),
        "jobs_by_state": dict(Counter(final.get(j, "missing") for j in accepted)),
        "jobs_lost": len(lost),
        "jobs_duplicated": len([j for j, n in completions.items() if n > 1]),
        "resend_logged": "the broker lost its messages" in worker_logs
        or "but the broker holds" in worker_logs,
    }


def pick_victim(settings: Any, workers: list[Proc]) -> tuple[Proc, str, int] | None:
    """A worker of ours that is running a job now (its row names the worker's node)."""
    by_pid = {p.pid: p for p in workers if p.alive()}
    for job_id, row in job_rows(settings).items():
        if row["state"] != "active" or not row["claimed_by"]:
            continue
        match = re.match(r"reels-(\d+)@", row["claimed_by"])
        if match and int(match.group(1)) in by_pid:
            return by_pid[int(match.group(1))], job_id, int(row["lost_count"])
    return None


def wait_ready(
    base: str, timeout: float, check: Callable[[dict[str, Any]], bool] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            body = httpx.get(base + "/readyz", timeout=5).json()
            if (check or (lambda b: b["status"] == "ok"))(body):
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{base} not ready in {timeout} s")


def embedded_run(args: argparse.Namespace, work: Path, report: dict[str, Any]) -> None:
    """`serve` with its embedded worker on SQLite: kill the worker, time the restart."""
    from reels_scripter.config import Settings
    from reels_scripter.db import session_factory
    from reels_scripter.worker import presence

    home = work / "embedded"
    home.mkdir()
    env = service_env(home / "data", JOB_PROGRESS_DELAY_SEC="0.3", UPLOAD_RATE_LIMIT="")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    serve = Proc(
        "serve",
        [str(BIN / "reels-scripter"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env,
        home,
    )
    settings = Settings(_env_file=None, DATA_DIR=home / "data")
    sessions = None
    restart_s: list[float] = []
    job_recovery: float | None = None
    job_state = None
    try:
        wait_ready(base, timeout=120)
        sessions = session_factory(settings)

        def worker_pid() -> int | None:
            found = re.findall(r"embedded worker started \(pid (\d+)\)", serve.text())
            return int(found[-1]) if found else None

        def running(pid: int) -> bool:
            assert sessions is not None
            with sessions() as s:
                row = s.get(presence.WorkerRecord, presence.node_name(pid))
                return row is not None and row.state == presence.RUNNING

        video = make_videos(home, 1)[0]
        with video.open("rb") as f:
            job_id = httpx.post(
                base + "/api/upload", files={"video": (video.name, f)}, timeout=60
            ).json()["jobId"]
        for i in range(args.embedded_kills):
            pid = worker_pid()
            assert pid is not None
            if i == 0:  # the first kill lands mid-job
                deadline = time.monotonic() + 60
                while httpx.get(f"{base}/api/jobs/{job_id}").json()["progress"] == 0:
                    assert time.monotonic() < deadline, "job never started"
                    time.sleep(0.2)
            killed_at = time.monotonic()
            os.kill(pid, signal.SIGKILL)
            while (new := worker_pid()) in (None, pid) or not running(new):
                if time.monotonic() - killed_at > 120:
                    raise RuntimeError("embedded worker did not come back")
                time.sleep(0.05)
            restart_s.append(time.monotonic() - killed_at)
            log(f"embedded worker back in {restart_s[-1]:.1f} s")
            if i == 0:
                while True:
                    detail = httpx.get(f"{base}/api/jobs/{job_id}").json()
                    if detail["lostCount"] >= 1 and detail["state"] != "waiting":
                        job_recovery = time.monotonic() - killed_at
                        break
                    if time.monotonic() - killed_at > 120:
                        break
                    time.sleep(0.25)
            time.sleep(2)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            job_state = httpx.get(f"{base}/api/jobs/{job_id}").json()["state"]
            if job_state in ("completed", "failed"):
                break
            time.sleep(0.5)
        family = [pid for pid in [worker_pid()] if pid]
        serve.kill(signal.SIGKILL)  # serve killed outright: its worker must follow
        time.sleep(3)
        orphans = [pid for pid in family if _alive(pid)]
    finally:
        serve.kill(signal.SIGKILL)
    report["embedded"] = {
        "worker_sigkills": len(restart_s),
        "restart_s": {
            "median": round(statistics.median(restart_s), 1) if restart_s else None,
            "max": round(max(restart_s), 1) if restart_s else None,
            "all": [round(r, 1) for r in restart_s],
        },
        "job_recovery_after_kill_s": round(job_recovery, 1) if job_recovery else None,
        "job_final_state": job_state,
        "orphans_after_serve_sigkill": len(orphans),
    }


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def schema_run(report: dict[str, Any]) -> None:
    out = subprocess.run(
        [
            str(BIN / "pytest"),
            "tests/api/test_schema_fuzz.py",
            "-q",
            "-s",
            "-p",
            "no:cacheprovider",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = re.findall(r"schemathesis (\w+): (\d+) calls, (\d+) 5xx", out.stdout)
    report["schemathesis"] = {
        db: {"calls": int(calls), "5xx": int(errors)} for db, calls, errors in lines
    }
    report["schemathesis"]["passed"] = out.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--kills", type=int, default=8)
    parser.add_argument("--kill-interval", type=float, default=6.0)
    parser.add_argument("--redis-restarts", type=int, default=3)
    parser.add_argument("--slow-clients", type=int, default=30)
    parser.add_argument("--max-uploads", type=int, default=8)
    parser.add_argument("--embedded-kills", type=int, default=3)
    parser.add_argument("--budget", type=float, default=480, help="seconds for the main run")
    parser.add_argument("--backlog", type=int, default=30, help="jobs queued before the restart")
    parser.add_argument(
        "--broker-job-delay",
        type=float,
        default=0.1,
        help="JOB_PROGRESS_DELAY_SEC in the broker scenario (longer jobs: a longer backlog)",
    )
    parser.add_argument(
        "--skip", nargs="*", default=[], choices=["production", "broker", "embedded", "schema"]
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if shutil.which("redis-server") is None:
        raise SystemExit("error: redis-server is not installed")

    report: dict[str, Any] = {}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="reels-fault-") as tmp:
        work = Path(tmp)
        if "production" not in args.skip:
            log("production shape: API + workers on Redis and PostgreSQL")
            production_run(args, work, report)
        if "broker" not in args.skip:
            log("a broker that forgets: Redis without persistence restarted under a backlog")
            broker_forgets_run(args, work, report)
        if "embedded" not in args.skip:
            log("embedded: serve with its supervised worker on SQLite")
            embedded_run(args, work, report)
    if "schema" not in args.skip:
        log("schemathesis on SQLite and PostgreSQL")
        schema_run(report)
    report["total_s"] = round(time.monotonic() - started, 1)
    text = json.dumps(report, indent=2, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
