"""The upload's size cap is enforced *while reading*, exactly at the cap.

These drive the ASGI app directly with a `receive` that counts what the app pulled, so a
cap checked only after the whole body is on disk (which would still answer 413) fails here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from fastapi import FastAPI
from starlette.types import Message, Scope

from reels_scripter.analysis.sniff import HEAD_SIZE

BOUNDARY = b"limitsb0undary"
CHUNK = 64 * 1024
MIB = 1024 * 1024
# A valid-looking MP4 start, so any refusal is about size, not content.
FTYP = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"


def body_chunks(file_size: int) -> list[bytes]:
    payload = (FTYP + bytes(max(0, file_size - len(FTYP))))[:file_size]
    head = (
        b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="video"; filename="a.mp4"'
        b"\r\nContent-Type: video/mp4\r\n\r\n"
    )
    tail = b"\r\n--" + BOUNDARY + b"--\r\n"
    chunks = [head]
    chunks += [payload[i : i + CHUNK] for i in range(0, len(payload), CHUNK)]
    chunks.append(tail)
    return chunks


def post(app: FastAPI, chunks: list[bytes]) -> tuple[int, int, int]:
    """(status, bytes the app pulled, bytes offered) for a chunked POST without
    Content-Length."""
    consumed = 0
    remaining = iter(chunks)
    status = 0

    async def receive() -> Message:
        nonlocal consumed
        chunk = next(remaining, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        consumed += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/upload",
        "raw_path": b"/api/upload",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"content-type", b"multipart/form-data; boundary=" + BOUNDARY),
            (b"host", b"testserver"),
        ],
        "client": ("127.0.0.1", 1234),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))
    return status, consumed, sum(len(c) for c in chunks)


def test_reading_stops_at_the_cap(make_app: Callable[..., FastAPI]) -> None:
    app = make_app(MAX_FILE_SIZE_MB=1)
    status, consumed, offered = post(app, body_chunks(8 * MIB))
    assert status == 413
    # refused within a chunk of the cap, not after the 8 MiB body was read
    assert consumed <= MIB + 2 * CHUNK < offered


def test_a_file_of_exactly_the_cap_is_not_too_large(make_app: Callable[..., FastAPI]) -> None:
    app = make_app(MAX_FILE_SIZE_MB=1)
    at_cap, _, _ = post(app, body_chunks(MIB))
    over_cap, _, _ = post(app, body_chunks(MIB + 1))
    # at the cap the file is read whole and judged by content (zeros after the ftyp box are
    # no video); one byte more is refused for its size
    assert at_cap == 422
    assert over_cap == 413


def test_a_non_video_is_refused_after_its_first_bytes(make_app: Callable[..., FastAPI]) -> None:
    app = make_app(MAX_FILE_SIZE_MB=50)
    chunks = body_chunks(20 * MIB)
    chunks[1] = b"\x89PNG\r\n\x1a\n" + chunks[1][8:]  # the file starts as a PNG
    status, consumed, offered = post(app, chunks)
    assert status == 422
    assert consumed <= HEAD_SIZE + 3 * CHUNK < offered
