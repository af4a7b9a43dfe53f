"""Prometheus metrics: HTTP traffic and uploads measured here, jobs read from the database.

Job counts come from the database at scrape time rather than from counters in this process:
the API may run as several replicas and the work happens in other processes, so only the
database knows how many jobs wait, run, finished or failed.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

JOB_STATES = ("waiting", "active", "completed", "failed")
# Durations are summarised over this many most recent finished jobs.
DURATION_WINDOW = 1000


class JobsCollector(Collector):
    """Reads job counts and recent durations from the database on each scrape."""

    def __init__(self, sessions: Callable[[], sessionmaker[Session]]) -> None:
        self._sessions = sessions

    def describe(self) -> Iterator[Metric]:
        # Nothing up front: registering must not query a database that may not exist yet.
        return iter(())

    def collect(self) -> Iterator[Metric]:
        try:
            counts, durations, waits = self._read()
        except Exception:  # a scrape must not fail because the database blinked
            log.warning("could not read job metrics from the database", exc_info=True)
            up = GaugeMetricFamily("reels_jobs_metrics_up", "1 if job metrics could be read.")
            up.add_metric([], 0)
            yield up
            return
        up = GaugeMetricFamily("reels_jobs_metrics_up", "1 if job metrics could be read.")
        up.add_metric([], 1)
        yield up
        jobs = GaugeMetricFamily("reels_jobs", "Jobs in the database by state.", labels=["state"])
        for state in JOB_STATES:
            jobs.add_metric([state], counts.get(state, 0))
        yield jobs
        depth = GaugeMetricFamily("reels_queue_depth", "Jobs waiting for a worker.")
        depth.add_metric([], counts.get("waiting", 0))
        yield depth
        yield _quantiles(
            "reels_job_duration_seconds",
            f"Analysis time (started to finished) of the last {DURATION_WINDOW} finished jobs.",
            durations,
        )
        yield _quantiles(
            "reels_job_wait_seconds",
            f"Queue wait (created to started) of the last {DURATION_WINDOW} finished jobs.",
            waits,
        )

    def _read(self) -> tuple[dict[str, int], list[float], list[float]]:
        from reels_scripter.jobs.repository import JobRepository

        with self._sessions()() as session:
            repo = JobRepository(session)
            counts = repo.count_by_state()
            recent = repo.recent_timings(DURATION_WINDOW)
        durations = [_seconds(s, f) for _, s, f in recent]
        waits = [_seconds(c, s) for c, s, _ in recent]
        return counts, durations, waits


def _seconds(a: datetime | None, b: datetime | None) -> float:
    if a is None or b is None:
        return 0.0
    return max((b - a).total_seconds(), 0.0)


def _quantiles(name: str, doc: str, values: Iterable[float]) -> GaugeMetricFamily:
    data = sorted(values)
    family = GaugeMetricFamily(name, doc, labels=["quantile"])
    for q in (0.5, 0.9, 0.99):
        if not data:
            value = float("nan")
        elif len(data) == 1:
            value = data[0]
        else:
            value = statistics.quantiles(data, n=100, method="inclusive")[round(q * 100) - 1]
        family.add_metric([str(q)], value)
    return family


class ApiMetrics:
    """The metrics one app instance owns, in its own registry (tests build many apps)."""

    def __init__(self, sessions: Callable[[], sessionmaker[Session]]) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Histogram(
            "reels_http_request_duration_seconds",
            "HTTP request latency by route template.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.uploads = Counter(
            "reels_uploads",
            "Upload attempts by outcome (`ok` or the error code).",
            ["outcome"],
            registry=self.registry,
        )
        self.upload_seconds = Histogram(
            "reels_upload_duration_seconds",
            "Time from the first body byte to the job being queued (accepted uploads).",
            buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
            registry=self.registry,
        )
        self.upload_bytes = Histogram(
            "reels_upload_size_bytes",
            "Size of accepted uploads.",
            buckets=tuple(mb * 1024 * 1024 for mb in (1, 5, 10, 25, 50, 75, 100, 200)),
            registry=self.registry,
        )
        self.registry.register(JobsCollector(sessions))
