"""glibc's malloc, tuned for `analyze`: fewer arenas, and freed memory handed back before peaks.

The arena cap (~55 MB less peak memory per `analyze`): glibc gives each thread that contends for
the heap an arena of its own, up to 8 per core, and an arena keeps what was freed in it.
`analyze` runs a dozen threads (probe, model loading, video decode, measures, speech, OCR,
hashing), each allocating and freeing frames and buffers of megabytes: on the 30 s bench reel
peak RSS was 601-632 MB with the default and 560-576 MB with two arenas
(`GLIBC_TUNABLES=glibc.malloc.arena_max=2`, three runs each), at the same CPU time. The cap
applies to arenas made after it is set, so it is set before the first thread starts. Elsewhere
than glibc (musl, macOS) nothing is done.

An arena also keeps what its threads freed (model loading, the audio decode, the first frames)
until something asks for it back. `release_free_memory` (`malloc_trim`) hands it to the system:
just before each Whisper encoder pass, the process's memory peak (~70 MB of attention scores a
layer come on top of everything else), and at the end of each analysis, so that a worker does
not carry one job's freed memory into the next. Each call takes a few CPU-milliseconds.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import threading
from collections.abc import Callable
from typing import Any, cast

log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # malloc.h
ARENAS = 2
_done = threading.Event()


@functools.cache
def _glibc(name: str, *argtypes: type[ctypes._SimpleCData[Any]]) -> Callable[..., int] | None:
    """The C library's `name`, returning an int; None where there is no such function."""
    try:
        function = getattr(ctypes.CDLL(None), name)
    except (OSError, AttributeError):
        return None
    function.argtypes = list(argtypes)
    function.restype = ctypes.c_int
    return cast("Callable[..., int]", function)


def cap_arenas(arenas: int = ARENAS) -> bool:
    """Set the cap once per process; True when glibc took it."""
    if _done.is_set():
        return True
    mallopt = _glibc("mallopt", ctypes.c_int, ctypes.c_int)
    if mallopt is None:
        return False
    if mallopt(M_ARENA_MAX, arenas) != 1:
        log.debug("mallopt(M_ARENA_MAX) refused")
        return False
    _done.set()
    return True


def release_free_memory() -> bool:
    """Give the memory that glibc's arenas hold freed back to the system; True when some was
    (False also where there is no glibc). Safe from any thread: each arena is locked in turn."""
    trim = _glibc("malloc_trim", ctypes.c_size_t)
    return bool(trim(0)) if trim is not None else False
