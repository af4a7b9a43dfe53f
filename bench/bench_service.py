"""Service benchmark: upload memory and speed, and status-call throughput.

Prints three figures, each measured against a real uvicorn subprocess on 127.0.0.1:

1. peak RSS growth of the API process while it receives a 100 MB upload (target <= 32 MB),
   sampled with psutil every few milliseconds;
2. that upload's wall time divided by a plain file copy of the same file (the floor any
   upload path has to write the bytes once);
3. `GET /api/status/{id}` of a completed job (analysed for real first) divided by a bare
   FastAPI route returning the very same bytes, served by uvicorn the same way, side by
   side in the same run, best of interleaved rounds (target >= 0.7).

Usage (from the Makefile: `make bench`, which puts tests/ on PYTHONPATH for the reel maker):
    python bench/bench_service.py [--size-mb 100] [--requests 3000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
SERVER_ARGS = ["--log-level", "warning", "--no-access-log", "--loop", "auto", "--http", "auto"]


def bare_app(body: bytes) -> Any:
    """The comparison point: FastAPI, one route returning `body` as JSON, nothing else."""
    from fastapi import FastAPI
    from fastapi.responses import Response

    app = FastAPI()

    # async: no thread hop, the cheapest route FastAPI can serve
    @app.get("/bare/{job_id}")
    async def bare(job_id: str) -> Response:
        return Response(body, media_type="application/json")

    return app


def serve_bare(port: int, body_file: Path) -> None:
    """`--serve-bare PORT BODY_FILE`: the bare app under uvicorn, with the API's options."""
    import uvicorn

    uvicorn.run(
        bare_app(body_file.read_bytes()),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        loop="auto",
        http="auto",
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(cmd: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(cmd, env=env, cwd=env["DATA_DIR"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/docs", timeout=1)
            return proc
        except httpx.HTTPError:
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd} exited with {proc.returncode}") from None
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{cmd} did not start")


def api_server(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "reels_scripter.api.app:app_from_env"]
    return start_server([*cmd, "--host", "127.0.0.1", "--port", str(port), *SERVER_ARGS], env, port)


def bare_server(env: dict[str, str], port: int, body_file: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, __file__, "--serve-bare", str(port), str(body_file)]
    return start_server(cmd, env, port)


def complete_job(env: dict[str, str], job_id: str) -> None:
    """Analyse the job for real, as a worker would (the bench runs no worker)."""
    code = (
        "import sys\n"
        "from reels_scripter.config import Settings\n"
        "from reels_scripter.jobs.runner import run_job\n"
        "outcome = run_job(sys.argv[1], Settings())\n"
        "assert outcome.status == 'completed', outcome\n"
    )
    subprocess.run([sys.executable, "-c", code, job_id], env=env, cwd=env["DATA_DIR"], check=True)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def make_big_video(path: Path, size: int) -> Path:
    """A valid short MP4 padded to `size` with a trailing `free` box (legal ISO-BMFF), so the
    upload passes every check and exercises the full success path."""
    from support.reelgen import make_reel  # tests/ on PYTHONPATH (the Makefile sets it)

    small = make_reel(path.with_suffix(".small.mp4"), duration=1.0, width=64, height=112, fps=10)
    data = small.read_bytes()
    pad = size - len(data)
    with path.open("wb") as f:
        f.write(data)
        f.write(pad.to_bytes(4, "big") + b"free")
        chunk = bytes(1024 * 1024)
        left = pad - 8
        while left > 0:
            f.write(chunk[: min(left, len(chunk))])
            left -= min(left, len(chunk))
    return path


class RssSampler(threading.Thread):
    def __init__(self, pid: int, interval: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.interval = interval
        self.peak = self.proc.memory_info().rss
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(self.interval)

    def stop(self) -> int:
        self._done.set()
        self.join()
        return self.peak


def upload(base: str, path: Path) -> tuple[float, str]:
    started = time.perf_counter()
    with path.open("rb") as f:
        resp = httpx.post(
            base + "/api/upload",
            files={"video": (path.name, f, "video/mp4")},
            timeout=httpx.Timeout(300),
        )
    elapsed = time.perf_counter() - started
    resp.raise_for_status()
    return elapsed, str(resp.json()["jobId"])


async def _keepalive_loop(host: str, port: int, path: str, count: list[int]) -> None:
    """GETs over one keep-alive connection with a minimal HTTP/1.1 client: httpx costs more
    CPU per request than the server does, and would make the client the bottleneck."""
    reader, writer = await asyncio.open_connection(host, port)
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    try:
        while count[0] > 0:
            count[0] -= 1
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"{path}: {head[:40]!r}")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            await reader.readexactly(length)
    finally:
        writer.close()


async def throughput(port: int, path: str, requests: int, concurrency: int) -> float:
    """Requests per second over `requests` GETs from `concurrency` keep-alive connections."""
    await asyncio.gather(*(_keepalive_loop("127.0.0.1", port, path, [20]) for _ in range(4)))
    count = [requests]
    started = time.perf_counter()
    await asyncio.gather(
        *(_keepalive_loop("127.0.0.1", port, path, count) for _ in range(concurrency))
    )
    return requests / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=100)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--serve-bare", nargs=2, metavar=("PORT", "BODY_FILE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(int(args.serve_bare[0]), Path(args.serve_bare[1]))
        return

    with tempfile.TemporaryDirectory(prefix="bench-service-") as tmp:
        work = Path(tmp)
        data_dir = work / "data"
        data_dir.mkdir()
        env = {
            **os.environ,
            "DATA_DIR": str(data_dir),
            "REDIS_URL": "",
            "DATABASE_URL": "",
            "STORAGE_BACKEND": "local",
            "AI_PROVIDER": "local",
            "API_KEYS": "",
            "UPLOAD_RATE_LIMIT": "",
            "MAX_FILE_SIZE_MB": str(args.size_mb),
            "LOG_LEVEL": "WARNING",
        }
        subprocess.run(
            [
                sys.executable,
                "-c",
                "from reels_scripter.config import Settings;"
                "from reels_scripter.db import upgrade_database;"
                "upgrade_database(Settings())",
            ],
            env=env,
            cwd=data_dir,
            check=True,
        )
        video = make_big_video(work / "big.mp4", args.size_mb * 1024 * 1024)
        small = video.with_suffix(".small.mp4")

        api_port, bare_port, raw_port = free_port(), free_port(), free_port()
        api = api_server(env, api_port)
        # the same API with its status cache off: every poll is a database read
        uncached = api_server({**env, "STATUS_CACHE_SEC": "0"}, raw_port)
        bare: subprocess.Popen[bytes] | None = None
        try:
            api_base = f"http://127.0.0.1:{api_port}"
            # warm-up: imports, the probe, DB and storage paths all touched once; this small
            # reel's job is then analysed for real, for the status figure
            _, done_id = upload(api_base, small)
            complete_job(env, done_id)
            time.sleep(0.5)
            baseline = psutil.Process(api.pid).memory_info().rss
            sampler = RssSampler(api.pid)
            sampler.start()
            upload_s, _ = upload(api_base, video)
            peak = sampler.stop()
            growth_mb = (peak - baseline) / (1024 * 1024)

            copy_target = work / "copy.mp4"
            copy_times = []
            for _ in range(3):
                started = time.perf_counter()
                shutil.copyfile(video, copy_target)
                copy_times.append(time.perf_counter() - started)
                copy_target.unlink()
            copy_s = min(copy_times)

            path = f"/api/status/{done_id}"
            body = httpx.get(api_base + path, timeout=10).content
            assert b'"state":"completed"' in body, body[:200]
            body_file = work / "status.json"
            body_file.write_bytes(body)
            bare = bare_server(env, bare_port, body_file)
            bare_body = httpx.get(f"http://127.0.0.1:{bare_port}/bare/{done_id}").content
            assert bare_body == body, "the bare route must serve the very same bytes"

            n, c = args.requests, args.concurrency
            status_rps = bare_rps = raw_rps = 0.0
            for _ in range(args.rounds):  # interleaved; best of each
                bare_rps = max(
                    bare_rps, asyncio.run(throughput(bare_port, f"/bare/{done_id}", n, c))
                )
                status_rps = max(status_rps, asyncio.run(throughput(api_port, path, n, c)))
                raw_rps = max(raw_rps, asyncio.run(throughput(raw_port, path, n, c)))
        finally:
            stop(api)
            stop(uncached)
            if bare is not None:
                stop(bare)

    print(f"upload size:                 {args.size_mb} MiB")
    print(f"API RSS baseline:            {baseline / 2**20:.1f} MiB")
    print(f"API peak RSS growth:         {growth_mb:.1f} MiB (target <= 32)")
    print(f"upload time:                 {upload_s:.2f} s")
    print(f"plain file copy:             {copy_s:.3f} s")
    print(f"upload / copy:               {upload_s / copy_s:.1f}x")
    print(f"status body (completed job): {len(body)} bytes")
    print(f"bare FastAPI route:          {bare_rps:.0f} req/s (same bytes)")
    print(f"GET /api/status:             {status_rps:.0f} req/s (STATUS_CACHE_SEC=1, default)")
    print(f"status / bare:               {status_rps / bare_rps:.2f} (target >= 0.7)")
    print(f"GET /api/status, no cache:   {raw_rps:.0f} req/s (STATUS_CACHE_SEC=0)")
    print(f"uncached status / bare:      {raw_rps / bare_rps:.2f}")


if __name__ == "__main__":
    main()
