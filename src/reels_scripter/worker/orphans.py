"""No orphans: a worker process dies with the process that started it.

`serve` starts the embedded worker, and the worker's pool processes run the analyses; if the
parent is killed outright (SIGKILL, OOM) nothing runs its clean-up code, so each child asks
the kernel to signal it when its parent goes (Linux `PR_SET_PDEATHSIG`). Elsewhere a thread
watches the parent's pid instead. The job a killed worker was running is not lost: its
heartbeat goes stale and the sweeper re-queues it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import threading

log = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1
WATCH_INTERVAL_SEC = 1.0


def _prctl_pdeathsig(sig: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return int(libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """Receive `sig` when the parent process exits (call it first thing in the child)."""
    parent = os.getppid()
    if _prctl_pdeathsig(sig):
        # The parent may have died before the call: then the signal never comes.
        if os.getppid() != parent:
            os.kill(os.getpid(), sig)
        return

    def watch() -> None:
        while True:
            threading.Event().wait(WATCH_INTERVAL_SEC)
            if os.getppid() != parent:
                log.warning("parent process %s is gone; exiting", parent)
                os.kill(os.getpid(), sig)
                return

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
