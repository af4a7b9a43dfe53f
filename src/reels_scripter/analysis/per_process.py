"""One instance per process of a class that is costly to build (a model, a cascade)."""

from __future__ import annotations

import threading
from typing import Any, ClassVar, Self


class PerProcess:
    """Mixin: `shared()` builds the class (no arguments) on first use and returns that same
    instance ever after, in every thread."""

    _per_process: ClassVar[dict[type, Any]] = {}
    _per_process_lock: ClassVar[threading.RLock] = threading.RLock()

    @classmethod
    def shared(cls) -> Self:
        with PerProcess._per_process_lock:
            instance = PerProcess._per_process.get(cls)
            if instance is None:
                instance = PerProcess._per_process[cls] = cls()
            return instance
