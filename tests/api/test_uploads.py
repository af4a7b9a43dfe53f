"""`POST /api/upload`: every bad input gets its status and code, and leaves no file behind."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
from fastapi.testclient import TestClient

from .conftest import LiveServer, leftovers, services_of


class HttpReply(Protocol):
    """An HTTP reply as these checks read it. TestClient answers with httpx2's Response (httpx's
    where httpx2 is missing) and a live server is called with httpx: two classes, one shape."""

    status_code: int

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def text(self) -> str: ...

    def json(self, **kwargs: Any) -> Any: ...


def post_video(client: TestClient, path: Path, name: str | None = None) -> HttpReply:
    with path.open("rb") as f:
        return client.post("/api/upload", files={"video": (name or path.name, f, "video/mp4")})


def data_dir(client: TestClient) -> Path:
    return services_of(client).settings.data_dir


def assert_error(resp: HttpReply, status: int, code: str) -> None:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["code"] == code
    assert isinstance(body["error"], str) and body["error"]
    assert "Traceback" not in resp.text


@pytest.mark.parametrize(
    ("video", "status", "code"),
    [
        ("empty", 422, "empty_file"),
        ("text", 422, "not_a_video"),
        ("png", 422, "not_a_video"),
        ("avi", 415, "unsupported_format"),
        ("junk_ftyp", 422, "corrupt_video"),
        ("truncated", 422, "corrupt_video"),
        ("audio_only", 422, "audio_only"),
        ("huge", 422, "resolution_too_large"),
    ],
)
def test_bad_video_is_refused_and_nothing_is_kept(
    client: TestClient, videos: dict[str, Path], video: str, status: int, code: str
) -> None:
    resp = post_video(client, videos[video])
    assert_error(resp, status, code)
    assert leftovers(data_dir(client)) == []


def test_too_long(make_client: Callable[..., TestClient], videos: dict[str, Path]) -> None:
    client = make_client(MAX_VIDEO_DURATION_SEC=1.5)
    assert_error(post_video(client, videos["long"]), 422, "too_long")
    assert leftovers(data_dir(client)) == []


def test_no_file_field(client: TestClient) -> None:
    resp = client.post("/api/upload", data={"other": "x"}, files={"nope": ("a.mp4", b"123")})
    assert_error(resp, 400, "no_file")
    assert resp.json()["error"] == "Файл не загружен."  # the seed's text, as a sentence
    assert_error(client.post("/api/upload"), 400, "no_file")
    assert_error(client.post("/api/upload", json={"video": "x"}), 400, "no_file")
    # a browser form with no file chosen sends an empty part with an empty file name
    assert_error(client.post("/api/upload", files={"video": ("", b"")}), 400, "no_file")
    assert leftovers(data_dir(client)) == []


def test_malformed_multipart(client: TestClient) -> None:
    resp = client.post(
        "/api/upload",
        content=b'--xyz\r\nContent-Disposition: form-data; name="video"; filename="a.mp4"\r\n',
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert_error(resp, 400, "malformed_multipart")
    assert leftovers(data_dir(client)) == []


def test_good_upload_is_queued(client: TestClient, videos: dict[str, Path]) -> None:
    resp = post_video(client, videos["good"], name="../../Мой ролик.mp4")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["success"] is True
    assert body["message"] == "Видео загружено и отправлено на анализ"
    job_id = body["jobId"]

    status = client.get(f"/api/status/{job_id}").json()
    assert status["state"] in ("waiting", "active", "completed", "failed")
    assert 0 <= status["progress"] <= 100
    job = client.get(f"/api/jobs/{job_id}").json()
    assert job["displayName"] == "Мой ролик.mp4"  # path parts dropped, name kept for display
    assert job["sizeBytes"] == videos["good"].stat().st_size
    # the temp file is gone; the only file left is the stored video, under a random name
    files = leftovers(data_dir(client))
    assert len(files) == 1
    assert "ролик" not in str(files[0])
    assert files[0].read_bytes() == videos["good"].read_bytes()


# ------------------------------------------------------------------ size cap


def _ftyp_head() -> bytes:
    # a valid-looking mp4 start, so the refusal below is about size, not content
    return b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"


def test_oversize_streamed_is_refused(make_client: Callable[..., TestClient]) -> None:
    client = make_client(MAX_FILE_SIZE_MB=1)
    payload = _ftyp_head() + bytes(2 * 1024 * 1024)

    def chunks() -> Iterator[bytes]:
        # no Content-Length: the cap must be enforced while reading
        boundary = b"--b0undary"
        yield boundary + b'\r\nContent-Disposition: form-data; name="video"; filename="a.mp4"'
        yield b"\r\nContent-Type: video/mp4\r\n\r\n"
        for i in range(0, len(payload), 64 * 1024):
            yield payload[i : i + 64 * 1024]
        yield b"\r\n" + boundary + b"--\r\n"

    resp = client.post(
        "/api/upload",
        content=chunks(),
        headers={"Content-Type": "multipart/form-data; boundary=b0undary"},
    )
    assert_error(resp, 413, "too_large")
    assert leftovers(data_dir(client)) == []


def test_oversize_with_content_length_is_refused(make_client: Callable[..., TestClient]) -> None:
    client = make_client(MAX_FILE_SIZE_MB=1)
    resp = client.post(
        "/api/upload", files={"video": ("a.mp4", _ftyp_head() + bytes(2 * 1024 * 1024))}
    )
    assert_error(resp, 413, "too_large")
    assert leftovers(data_dir(client)) == []


def test_declared_oversize_is_refused_before_the_body(
    live_server: Callable[..., LiveServer],
) -> None:
    """Only headers are sent: the 413 must come back without waiting for any body byte."""
    server = live_server(MAX_FILE_SIZE_MB=1)
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(
            b"POST /api/upload HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: multipart/form-data; boundary=zz\r\n"
            b"Content-Length: 209715200\r\n\r\n"
        )
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert b'"code":"too_large"' in reply
    assert time.monotonic() - started < 2


def test_upload_over_real_socket(
    live_server: Callable[..., LiveServer], videos: dict[str, Path]
) -> None:
    server = live_server()
    with videos["good"].open("rb") as f:
        resp = httpx.post(
            server.url + "/api/upload", files={"video": ("good.mp4", f, "video/mp4")}, timeout=30
        )
    assert resp.status_code == 200, resp.text
    with videos["png"].open("rb") as f:
        resp = httpx.post(server.url + "/api/upload", files={"video": ("x.mp4", f)}, timeout=30)
    assert_error(resp, 422, "not_a_video")
