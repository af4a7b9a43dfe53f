"""Races: the same function on several threads at once."""

from __future__ import annotations

import threading
from collections.abc import Callable


def run_in_threads(target: Callable[[], object], count: int) -> None:
    """Run `target` on `count` threads started together, and wait for all of them."""
    threads = [threading.Thread(target=target) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
