"""Validate an uploaded file and read its container facts, refusing bad input with typed errors.

The file is untrusted, and FFmpeg's demuxers and decoders are large C code, so every byte of
parsing happens in a short-lived child process with a wall-clock timeout and an address-space
limit: a hostile or broken file can at worst kill that child, which becomes a CorruptVideoError.

Cheap checks that need no parser (size, magic bytes) run in the caller's process first.

This module is the parent side: the cheap checks, starting the child (`probe_child`) and
turning its one-line JSON reply into `ProbeInfo` or a typed error. What the child reads from
the container is in `inspection`.
"""

from __future__ import annotations

import json
import logging
import stat
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from reels_scripter.analysis.errors import (
    INPUT_ERRORS,
    AudioOnlyError,
    CorruptVideoError,
    EmptyFileError,
    InputError,
    NotAVideoError,
    ProbeTimeoutError,
    ProbeUnavailableError,
    TooLargeError,
    UnsupportedFormatError,
    too_long,
)
from reels_scripter.analysis.inspection import DURATION_SLACK
from reels_scripter.analysis.probe_child import BOOTSTRAP
from reels_scripter.analysis.sniff import (
    HEAD_SIZE,
    SUPPORTED,
    container_name,
    foreign_format,
    mime_type,
    sniff,
)

if TYPE_CHECKING:
    from reels_scripter.analysis.models import AnalysisOptions, ProbeInfo

__all__ = ["probe", "sniff"]

log = logging.getLogger(__name__)

_UNAVAILABLE = "The video could not be inspected right now because of a server problem."
_MIB = 1024 * 1024

_ERRORS_BY_CODE: dict[str, type[InputError]] = {cls.code: cls for cls in INPUT_ERRORS}


def probe(path: str | Path, options: AnalysisOptions | None = None) -> ProbeInfo:
    """Validate the file at `path` and return its facts, or raise an `InputError` subclass."""
    # Imported here, not at the top, so the probe child never pays for pydantic.
    from reels_scripter.analysis.models import AnalysisOptions, ProbeInfo

    opts = options or AnalysisOptions()
    p = Path(path)
    try:
        st = p.stat()
        if not stat.S_ISREG(st.st_mode):
            raise InputError("The upload is not a regular file.")
        with p.open("rb") as f:
            head = f.read(HEAD_SIZE)
    except OSError:
        raise InputError("The file could not be read.") from None

    size = st.st_size
    if size == 0:
        raise EmptyFileError("The file is empty (0 bytes).")
    if opts.max_size_bytes is not None and size > opts.max_size_bytes:
        raise TooLargeError(
            f"The file is {_mb(size)}, larger than the {_mb(opts.max_size_bytes)} limit.",
            params={"limit_mb": opts.max_size_bytes / _MIB},
        )

    family = sniff(head)
    if family is None:
        refuse_unknown(head)
    name = container_name(head) or family or "mp4"

    request = {
        "path": str(p.resolve()),
        "family": family,
        "max_pixels": opts.max_pixels,
        "max_duration": opts.max_duration,
        "memory_mb": opts.probe_memory_mb,
        "timeout": opts.probe_timeout,
    }
    facts = run_child(request, opts.probe_timeout)

    info = ProbeInfo(
        container=name, family=family, mime_type=mime_type(name), size_bytes=size, **facts
    )
    # The child enforces this too; checking again keeps the limit true even if it misreports.
    if info.duration > opts.max_duration + DURATION_SLACK:
        raise too_long(info.duration, opts.max_duration)
    return info


def refuse_unknown(head: bytes) -> NoReturn:
    """Raise the typed error for a file that is not a supported container, naming what it is
    when its signature is unambiguous (PNG, MP3, AVI...)."""
    found = foreign_format(head)
    if found is None:
        raise NotAVideoError(f"The file is not a video. Upload an {SUPPORTED} file.")
    kind, label = found
    params = {"kind": kind, "format": label}
    if kind == "video":
        raise UnsupportedFormatError(
            f"{label} videos are not supported. Upload an {SUPPORTED} file.", params=params
        )
    if kind == "audio":
        raise AudioOnlyError(
            f"The file is {label} audio, not a video. Upload an {SUPPORTED} file.", params=params
        )
    noun = "an image" if kind == "image" else "a document"
    raise NotAVideoError(
        f"The file is {noun} ({label}), not a video. Upload an {SUPPORTED} file.", params=params
    )


def _mb(n: int) -> str:
    # binary units, as MAX_FILE_SIZE_MB is counted: a 100 MB setting must read "100.0 MB"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / (1024 * 1024):.1f} MB"


def run_child(request: dict[str, Any], timeout: float) -> dict[str, Any]:
    analysis_dir = Path(__file__).resolve().parent
    cmd = [
        sys.executable,
        # keep the current directory off sys.path, so nothing there can shadow `av`
        "-P",
        "-c",
        BOOTSTRAP,
        str(analysis_dir.parent),
        str(analysis_dir),
        json.dumps(request),
    ]
    try:
        done = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=max(timeout, 0.001),
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ProbeTimeoutError(
            f"Reading the video took longer than {timeout:g} s; the file may be damaged.",
            params={"timeout": timeout},
        ) from None
    except OSError as e:
        log.error("probe child could not start: %s", e)
        raise ProbeUnavailableError(_UNAVAILABLE) from e

    reply: Any = None
    try:
        reply = json.loads(done.stdout.decode("utf-8").strip().splitlines()[-1])
    except (ValueError, IndexError):
        reply = None
    stderr_tail = done.stderr[-2000:].decode("utf-8", "replace")
    if isinstance(reply, dict) and reply.get("unavailable"):
        log.error("probe child cannot load PyAV: %s", reply["unavailable"])
        raise ProbeUnavailableError(_UNAVAILABLE)
    if done.returncode < 0:
        # Killed by a signal (segfault, abort on out-of-memory, CPU limit) while parsing:
        # the file drove the parser into a state it could not recover from.
        log.warning("probe child died of signal %d: %s", -done.returncode, stderr_tail)
        raise CorruptVideoError("The video file is damaged and could not be read.")
    if not isinstance(reply, dict):
        # Every file problem is caught inside the child and answered as JSON; an exit
        # without an answer means the child itself could not run.
        log.error("probe child failed (exit %d): %s", done.returncode, stderr_tail)
        raise ProbeUnavailableError(_UNAVAILABLE)
    if "facts" in reply:
        facts = reply["facts"]
        if isinstance(facts, dict):
            return facts
    error_cls = _ERRORS_BY_CODE.get(str(reply.get("code")), CorruptVideoError)
    message = str(reply.get("message") or "The video file is damaged and could not be read.")
    params = reply.get("params")
    raise error_cls(message, params=params if isinstance(params, dict) else None)


if __name__ == "__main__":
    # Manual use: `python -m reels_scripter.analysis.probe FILE` prints the facts as JSON.
    try:
        print(probe(sys.argv[1]).model_dump_json(indent=2))
    except InputError as err:
        print(f"{err.code}: {err.message}", file=sys.stderr)
        raise SystemExit(2) from None
