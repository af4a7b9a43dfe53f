"""The one progress rule: a weighted sum of stage fractions that never goes back.

Stages run concurrently (video decode beside speech recognition), report from their own
threads and may repeat a value; `Progress` keeps each stage's fraction monotonic, turns them
into one overall 0..1 figure that only grows, and reports it with the latest stage name. The
job row stores that figure with the same never-back rule (across attempts too), so readers of
the row need no rule of their own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

# stage name, fraction of that stage done in [0, 1]
ProgressCallback = Callable[[str, float], None]

# Share of the overall bar each stage gets (roughly its share of the wall time).
STAGE_WEIGHTS: dict[str, float] = {
    "probe": 0.03,
    "video": 0.42,
    "speech": 0.25,
    "audio": 0.05,
    "ai": 0.25,
}


class Progress:
    """Callable `(stage, fraction)` that forwards to `callback` with the never-back rule.

    With `weights` it forwards `(stage, overall)`, the weighted sum of every stage's fraction;
    with `weights=None` it forwards each stage's own fraction (what `analyze` promises its
    callers). Either way a figure never goes back and repeats are not forwarded, except a
    stage's completion (1.0) and a repeat that names another stage than the last one
    forwarded: that is `resume`, saying which stage the work now waits on (the page shows
    the stage's name, and the video stage's many figures would otherwise keep its name up
    while the speech stage runs on alone).
    """

    def __init__(
        self,
        callback: ProgressCallback | None,
        weights: Mapping[str, float] | None = STAGE_WEIGHTS,
    ) -> None:
        self._callback = callback
        self._weights = dict(weights) if weights is not None else None
        self._done: dict[str, float] = {}
        self._overall = 0.0
        self._last_stage: str | None = None
        self._lock = threading.Lock()

    @property
    def overall(self) -> float:
        return self._overall

    def __call__(self, stage: str, fraction: float) -> None:
        if self._callback is None:
            return
        with self._lock:
            fraction = min(max(fraction, 0.0), 1.0)
            before = self._done.get(stage)
            repeat = before is not None and fraction <= before and fraction < 1.0
            if repeat and stage == self._last_stage:
                return  # nothing new for this stage
            self._last_stage = stage
            self._done[stage] = fraction if before is None else max(before, fraction)
            if self._weights is None:
                shown = self._done[stage]
            else:
                total = sum(self._weights.get(s, 0.0) * f for s, f in self._done.items())
                self._overall = max(self._overall, min(total, 1.0))
                shown = self._overall
        self._callback(stage, shown)

    def resume(self, name: str) -> None:
        """Say that the work now waits on stage `name` (its figure unchanged)."""
        with self._lock:
            fraction = self._done.get(name, 0.0)
        self(name, fraction)

    def stage(self, name: str) -> Callable[[float], None]:
        """A one-argument reporter for one stage."""
        return lambda fraction: self(name, fraction)
