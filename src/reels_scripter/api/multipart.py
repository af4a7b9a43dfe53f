"""Receive one file field of a multipart body straight to disk, in constant memory.

FastAPI's `UploadFile` (Starlette's `request.form()`) parses the whole body before the
endpoint runs: a 100 MB upload is read completely even when its first bytes already show it
is not wanted, and the size cap is only known after the fact. Here the body is fed chunk by
chunk to python-multipart's streaming parser, so:

* the size cap is enforced while reading (and from `Content-Length` before reading at all);
* the first bytes of the file go to a caller's check (`check_head`) as soon as they arrive;
* SHA-256 is computed on the way, with no second pass over the file;
* a client that stops sending is cut off (`idle_timeout` between chunks, `deadline` overall);
* small text fields beside the file are collected (bounded);
* memory stays at one network chunk plus one write buffer, whatever the file size.

This module knows nothing about videos: the content policy is the caller's (`upload_stream`).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import anyio
import anyio.to_thread
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from reels_scripter.analysis.errors import EmptyFileError, TooLargeError
from reels_scripter.api.errors import ApiError, MalformedMultipartError, NoFileError

# Room for the multipart framing and small form fields around the file itself.
ENVELOPE_BYTES = 64 * 1024
# Bytes the non-file fields may take together: enough for any text field a form sends.
MAX_OTHER_FIELDS_BYTES = 1024 * 1024
# Disk writes (and hashing) go to a worker thread in batches of this size: big enough that
# the thread hop costs nothing, small enough to keep memory flat.
WRITE_BATCH = 1024 * 1024
_MIB = 1024 * 1024


class UploadTimeoutError(ApiError, code="upload_timeout", http_status=408):
    """The client sent the body too slowly (idle between chunks, or past the deadline)."""


@dataclass
class ReceivedFile:
    path: Path
    size: int
    sha256: str
    filename: str | None
    content_type: str | None
    head: bytes
    fields: dict[str, str] = field(default_factory=dict)


HeadCheck = Callable[[bytes], Awaitable[None]]


def _too_large(max_bytes: int) -> TooLargeError:
    return TooLargeError(
        f"The file is larger than the {max_bytes / _MIB:.0f} MB limit.",
        params={"limit_mb": max_bytes / _MIB},
    )


@dataclass
class _State:
    field_name: str
    max_bytes: int
    tmp_dir: Path
    head_size: int
    # header parsing of the current part
    header_field: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    # raw bytes: browsers send UTF-8 file names unescaped, which latin-1 parsing would mangle
    headers: dict[str, bytes] = field(default_factory=dict)
    in_target: bool = False
    other_name: str | None = None
    found: bool = False
    finished: bool = False
    head_checked: bool = False
    filename: str | None = None
    content_type: str | None = None
    size: int = 0
    other_bytes: int = 0
    fields: dict[str, bytearray] = field(default_factory=dict)
    pending: bytearray = field(default_factory=bytearray)
    head: bytearray = field(default_factory=bytearray)
    file: IO[bytes] | None = None
    path: Path | None = None
    hasher: hashlib._Hash = field(default_factory=hashlib.sha256)

    # --- python-multipart callbacks (synchronous, called from parser.write) ---

    def on_part_begin(self) -> None:
        self.headers = {}
        self.in_target = False
        self.other_name = None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        name = self.header_field.decode("latin-1").strip().lower()
        self.headers[name] = bytes(self.header_value)
        self.header_field.clear()
        self.header_value.clear()

    def on_headers_finished(self) -> None:
        _, params = parse_options_header(self.headers.get("content-disposition"))
        name = params.get(b"name", b"").decode("utf-8", "replace")
        if name != self.field_name or self.found:
            if b"filename" not in params and name and name != self.field_name:
                self.other_name = name  # a text field beside the file
            return
        self.found = self.in_target = True
        raw = params.get(b"filename")
        self.filename = raw.decode("utf-8", "replace") if raw is not None else None
        ctype = self.headers.get("content-type")
        self.content_type = ctype.decode("latin-1") if ctype is not None else None
        fd, path = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=self.tmp_dir)
        self.path = Path(path)
        self.file = os.fdopen(fd, "wb")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        n = end - start
        if not self.in_target:
            self.other_bytes += n
            if self.other_bytes > MAX_OTHER_FIELDS_BYTES:
                raise TooLargeError("Form fields besides the file are too large.")
            if self.other_name is not None:
                self.fields.setdefault(self.other_name, bytearray()).extend(data[start:end])
            return
        self.size += n
        if self.size > self.max_bytes:
            raise _too_large(self.max_bytes)
        self.pending += data[start:end]
        if len(self.head) < self.head_size:
            self.head += data[start : start + self.head_size - len(self.head)]

    def on_part_end(self) -> None:
        self.in_target = False
        self.other_name = None

    def on_end(self) -> None:
        self.finished = True

    # --- disk side ---

    def write_pending(self) -> None:
        """Runs in a worker thread: hashlib and file writes release the GIL."""
        assert self.file is not None
        data = bytes(self.pending)
        self.pending.clear()
        self.hasher.update(data)
        self.file.write(data)

    def close(self) -> None:
        if self.file is not None:
            self.file.close()

    def discard(self) -> None:
        self.close()
        if self.path is not None:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    def head_ready(self) -> bool:
        return (
            not self.head_checked
            and self.size > 0
            and (len(self.head) >= self.head_size or not self.in_target)
        )


def declared_too_large(request: Request, max_bytes: int) -> bool:
    """True when `Content-Length` alone proves the body is over the cap (refuse unread)."""
    raw = (request.headers.get("content-length") or "").strip()
    # ASCII digits only (isdigit() also takes other scripts'); a number too long for int()
    # (over 4,300 digits) is over any cap anyway
    if not raw or not raw.isascii() or not raw.isdigit():
        return False
    return len(raw) > 18 or int(raw) > max_bytes + ENVELOPE_BYTES + MAX_OTHER_FIELDS_BYTES


async def _chunks(request: Request, idle_timeout: float, deadline: float) -> AsyncIterator[bytes]:
    """The body's chunks; UploadTimeoutError when the client goes quiet or runs out of time."""
    stream = request.stream().__aiter__()
    give_up = time.monotonic() + deadline
    while True:
        wait = min(idle_timeout, give_up - time.monotonic())
        if wait <= 0:
            raise UploadTimeoutError(detail=f"The upload took longer than {deadline:g} s.")
        try:
            with anyio.fail_after(wait):
                chunk = await stream.__anext__()
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise UploadTimeoutError(
                detail=f"No data for {wait:.0f} s (idle timeout {idle_timeout:g} s)."
            ) from None
        yield chunk


async def receive_file(
    request: Request,
    *,
    field_name: str,
    max_bytes: int,
    tmp_dir: Path,
    check_head: HeadCheck | None = None,
    head_size: int = 4096,
    idle_timeout: float = math.inf,
    deadline: float = math.inf,
) -> ReceivedFile:
    """Stream the multipart field `field_name` to a temp file under `tmp_dir`.

    `check_head(first_bytes)` runs once the first `head_size` bytes of the file are in and
    may raise to refuse the file before the rest is read. Raises `AppError`s for bad
    requests; the temp file is removed on every failure (client disconnects included). On
    success the caller owns (and must delete) the file.
    """
    if declared_too_large(request, max_bytes):
        raise _too_large(max_bytes)
    ctype, params = parse_options_header(request.headers.get("content-type"))
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise NoFileError(
            detail=f"Send multipart/form-data with the file in the `{field_name}` field."
        )

    tmp_dir.mkdir(parents=True, exist_ok=True)
    st = _State(field_name=field_name, max_bytes=max_bytes, tmp_dir=tmp_dir, head_size=head_size)
    try:
        parser = MultipartParser(
            boundary,
            {
                "on_part_begin": st.on_part_begin,
                "on_part_data": st.on_part_data,
                "on_part_end": st.on_part_end,
                "on_header_field": st.on_header_field,
                "on_header_value": st.on_header_value,
                "on_header_end": st.on_header_end,
                "on_headers_finished": st.on_headers_finished,
                "on_end": st.on_end,
            },
        )
    except (ValueError, MultipartParseError):
        raise NoFileError(detail="The multipart boundary is invalid.") from None

    async def head_check() -> None:
        st.head_checked = True
        if check_head is not None:
            await check_head(bytes(st.head))

    try:
        async for chunk in _chunks(request, idle_timeout, deadline):
            if not chunk:
                continue
            try:
                parser.write(chunk)
            except MultipartParseError:
                raise MalformedMultipartError() from None
            if st.head_ready():
                await head_check()
            if len(st.pending) >= WRITE_BATCH:
                await anyio.to_thread.run_sync(st.write_pending)
            if st.finished:
                break
        if not st.finished:
            raise MalformedMultipartError(
                detail="The body ended before the closing multipart boundary."
            )
        if not st.found or (st.size == 0 and not st.filename):
            # A browser form with no file chosen sends the field with an empty filename.
            raise NoFileError(detail=f"No file in the `{field_name}` field.")
        if st.size == 0:
            raise EmptyFileError("The file is empty (0 bytes).")
        if not st.head_checked:
            await head_check()
        if st.pending:
            await anyio.to_thread.run_sync(st.write_pending)
        st.close()
        assert st.path is not None
        return ReceivedFile(
            path=st.path,
            size=st.size,
            sha256=st.hasher.hexdigest(),
            filename=st.filename,
            content_type=st.content_type,
            head=bytes(st.head),
            fields={k: v.decode("utf-8", "replace") for k, v in st.fields.items()},
        )
    except BaseException:
        # BaseException: a cancelled task (client gone, server stopping) must clean up too.
        st.discard()
        raise
