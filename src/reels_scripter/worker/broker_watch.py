"""What the sweeper asks the broker: did it forget its messages, and how many does it hold?

The database is the truth about jobs; the broker only carries their ids. A Redis that
restarts without persistence (Memorystore Basic tier, `--save "" --appendonly no`) comes back
empty while the database still has a backlog `waiting`: nothing would run those jobs until
the age guard (2 x JOB_RETRY_BACKOFF_MAX_SEC, ten minutes) re-sent them. Two checks find the
loss at the next sweep instead:

* a marker key the broker keeps in memory: gone means the broker lost its data (a restart
  without persistence, a flush, an eviction); the first sweeper to see it re-creates it;
* the count of messages (both job queues, plus kombu's delivered-but-unacknowledged ones)
  against the jobs that have waited past a short grace: fewer messages than such jobs means
  some messages are lost (a restart from an older snapshot, say).

Either way the sweeper re-sends the waiting jobs; a duplicate message is harmless (the claim
is atomic: the second delivery is skipped). The SQLite broker of the embedded mode lives in a
file beside the database and does not forget; it answers "nothing lost".
"""

from __future__ import annotations

import logging
from typing import Any

from reels_scripter.config import Settings

log = logging.getLogger(__name__)

MARKER_KEY = "reels_scripter:broker_memory"
# kombu's Redis transport keeps delivered, unacknowledged messages in this hash
UNACKED_KEY = "unacked"


class RedisBrokerWatch:
    """`forgot()` and `queued()` for the sweeper, on the Celery broker's Redis."""

    def __init__(self, redis_url: str, queues: list[str]) -> None:
        import redis

        self.client: Any = redis.Redis.from_url(
            redis_url, socket_timeout=5, socket_connect_timeout=5
        )
        self.queues = queues

    def forgot(self) -> bool:
        """True once after the broker lost its memory (the marker was missing)."""
        import redis

        try:
            created = bool(self.client.set(MARKER_KEY, "1", nx=True))
        except redis.RedisError:
            return False  # down: sends fail and are retried by the next sweep anyway
        if created:
            log.warning("the broker has no record of earlier messages (restarted empty?)")
        return created

    def queued(self) -> int | None:
        """Messages the broker holds for our queues (None when it cannot say)."""
        import redis

        try:
            # kombu keeps one list per priority step: "<queue>" and "<queue>\x06\x16<n>"
            names = {q.encode() for q in self.queues}
            steps = tuple(name + b"\x06\x16" for name in names)
            keys = {
                key
                for queue in self.queues
                for key in self.client.scan_iter(match=f"{queue}*", count=100)
                if key in names or key.startswith(steps)
            }
            total = sum(int(self.client.llen(k)) for k in keys if self.client.type(k) == b"list")
            return total + int(self.client.hlen(UNACKED_KEY))
        except redis.RedisError:
            return None


def broker_watch(settings: Settings, queues: list[str]) -> RedisBrokerWatch | None:
    """The watch for a Redis broker; None for the embedded SQLite broker."""
    if not settings.redis_url:
        return None
    return RedisBrokerWatch(settings.redis_url, queues)
