"""CPU seconds of native threads (Linux `/proc/self/task`), for per-stage timings.

CTranslate2 runs a model in worker threads of its own, so `time.thread_time()` in the calling
thread misses almost all of a transcription's CPU (0.16 of 1.1 CPU-s measured). The native
threads a model load starts are its workers: their CPU time is the model's. Python threads
started meanwhile by the rest of `analyze` (its pools, the video decoder) are not: counted as
workers, they once put the decoder's CPU into the language identification and, when they
ended, took it out of the transcription again. Elsewhere than Linux the figures are simply not
reported.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from pathlib import Path

_TASKS = Path("/proc/self/task")
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def thread_ids() -> set[int]:
    """The ids of this process's threads now (empty where /proc is missing)."""
    try:
        return {int(p.name) for p in _TASKS.iterdir()}
    except OSError:
        return set()


def new_native_threads(before: set[int]) -> set[int]:
    """The threads started since `before` (`thread_ids()`) that are not Python threads."""
    python = {t.native_id for t in threading.enumerate()}
    return thread_ids() - before - python


def cpu_seconds(tids: Iterable[int]) -> float | None:
    """User + system CPU seconds of the given threads (those that ended count 0); None
    where /proc is missing."""
    if not _TASKS.is_dir():
        return None
    total = 0
    for tid in tids:
        try:
            stat = (_TASKS / str(tid) / "stat").read_text()
        except OSError:
            continue
        # Fields after the command name (which may hold spaces) start after the last ')'.
        fields = stat.rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICKS
