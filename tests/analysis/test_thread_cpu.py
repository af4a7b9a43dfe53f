"""Per-stage CPU of native threads: a Python thread started during a model load is not the
model's worker (it once moved the video decoder's CPU into the language identification)."""

from __future__ import annotations

import threading
import time

import pytest

from reels_scripter.analysis.thread_cpu import cpu_seconds, new_native_threads, thread_ids

pytestmark = pytest.mark.skipif(not thread_ids(), reason="needs /proc/self/task (Linux)")


def _spin(seconds: float, stop: threading.Event | None = None) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end and not (stop and stop.is_set()):
        pass


def test_python_threads_started_meanwhile_are_not_workers() -> None:
    before = thread_ids()
    stop = threading.Event()
    busy = threading.Thread(target=_spin, args=(5.0, stop))
    busy.start()
    try:
        _spin(0.05)
        assert busy.native_id in thread_ids() - before  # new, and what the old rule took
        assert busy.native_id not in new_native_threads(before)
    finally:
        stop.set()
        busy.join()


def test_cpu_seconds_counts_a_thread_and_forgets_one_that_ended() -> None:
    stop = threading.Event()
    busy = threading.Thread(target=_spin, args=(0.3, stop))
    busy.start()
    tid = busy.native_id
    assert tid is not None
    busy.join()
    assert cpu_seconds({tid}) == 0.0  # ended: its /proc entry is gone
    assert (cpu_seconds(thread_ids()) or 0.0) > 0.0  # this thread has run
