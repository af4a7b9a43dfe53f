"""`sweep` called directly: stale jobs back to the queue, lost messages re-sent, orphans gone."""

from __future__ import annotations

import os
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from reels_scripter.config import Settings
from reels_scripter.db import utcnow
from reels_scripter.jobs import Job, JobState
from reels_scripter.jobs.repository import JobRepository, stale_cutoff
from reels_scripter.jobs.sweeper import recover_jobs_of, sweep
from reels_scripter.storage.local import LocalStorage


def make_old(path: Path, hours: float = 25) -> None:
    past = time.time() - hours * 3600
    os.utime(path, (past, past))


def test_sweep(db_settings: Settings, session: Session, tmp_path: Path) -> None:
    storage = LocalStorage.from_settings(db_settings)
    src = tmp_path / "v.bin"
    src.write_bytes(b"v")
    names = [storage.new_object_name() for _ in range(4)]
    for name in names:
        storage.upload_file(src, name)
        make_old(storage.root / name)
    in_use, orphan, exhausted_obj, young = names[0], names[1], names[2], names[3]
    os.utime(storage.root / young)  # just uploaded: not an orphan yet

    repo = JobRepository(session)
    common = {"sha256": "s" * 64, "size_bytes": 1, "settings_fingerprint": "f" * 64}
    stale = repo.add(Job(**common, object_name=in_use, max_attempts=3))
    # lost by its worker for the JOB_MAX_LOSSES-th time (default 5): it fails as worker_lost
    exhausted = repo.add(Job(**common, object_name=exhausted_obj, max_attempts=3, lost_count=4))
    lost = repo.add(Job(**common, object_name=young, max_attempts=3))
    session.commit()
    for job in (stale, exhausted):
        assert repo.claim(job.id, stale_cutoff(60)) is not None
    session.commit()
    long_ago = utcnow() - timedelta(hours=2)
    for job in (stale, exhausted, lost):
        row = repo.get(job.id, any_owner=True)
        assert row is not None
        row.heartbeat_at = long_ago if row.state == JobState.active else None
    session.commit()
    # `lost` has been waiting, untouched, far longer than any retry countdown.
    session.execute(update(Job).where(Job.id == lost.id).values(updated_at=long_ago))
    session.commit()

    tmp_dir = db_settings.data_dir / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    (tmp_dir / "job-old.mp4").write_bytes(b"x")
    make_old(tmp_dir / "job-old.mp4")
    (tmp_dir / "job-new.mp4").write_bytes(b"x")

    sent: list[str] = []
    report = sweep(db_settings, sent.append, storage=storage)

    assert report.requeued == [stale.id] and report.failed == [exhausted.id]
    assert report.reenqueued == [lost.id]
    assert sorted(sent) == sorted([stale.id, lost.id])
    assert sorted(report.deleted_objects) == sorted([exhausted_obj, orphan])
    assert storage.exists(in_use) and storage.exists(young)
    assert report.deleted_temp_files == ["job-old.mp4"]
    assert (tmp_dir / "job-new.mp4").exists()
    session.expire_all()
    failed = repo.get(exhausted.id, any_owner=True)
    assert failed is not None and failed.state == JobState.failed
    # Idempotent: a second sweep (another worker's beat) finds nothing more to do.
    again = sweep(db_settings, sent.append, storage=storage)
    assert again.requeued == again.failed == again.reenqueued == again.deleted_objects == []


def test_a_job_the_broker_refused_is_sent_by_the_next_sweep(
    db_settings: Settings, session: Session
) -> None:
    """Redis restarting while the sweeper re-queues a dead worker's job: the job is not
    stranded until the lost-message guard (minutes), the next sweep sends it."""
    repo = JobRepository(session)
    job = repo.add(Job(sha256="s" * 64, size_bytes=1, settings_fingerprint="f" * 64))
    session.commit()
    assert repo.claim(job.id, stale_cutoff(60)) is not None
    session.execute(
        update(Job).where(Job.id == job.id).values(heartbeat_at=utcnow() - timedelta(minutes=5))
    )
    session.commit()

    def broker_down(job_id: str) -> None:
        raise ConnectionError("Redis is restarting")

    first = sweep(db_settings, broker_down)
    assert first.requeued == [job.id] and first.unsent == [job.id]
    sent: list[str] = []
    second = sweep(db_settings, sent.append)
    assert sent == [job.id] and second.reenqueued == [job.id] and second.unsent == []
    assert sweep(db_settings, sent.append).reenqueued == []  # sent once, then it waits


def test_the_jobs_of_a_worker_seen_dying_are_requeued_at_once(
    db_settings: Settings, session: Session
) -> None:
    repo = JobRepository(session)
    common = {"sha256": "s" * 64, "size_bytes": 1, "settings_fingerprint": "f" * 64}
    mine, other = repo.add(Job(**common)), repo.add(Job(**common))
    session.commit()
    assert repo.claim(mine.id, stale_cutoff(60), worker="reels-1@host") is not None
    assert repo.claim(other.id, stale_cutoff(60), worker="reels-2@host") is not None
    session.commit()

    swept = recover_jobs_of(db_settings, "reels-1@host")  # heartbeats still fresh
    assert swept.requeued == [mine.id] and swept.failed == []
    session.expire_all()
    back, untouched = repo.get(mine.id), repo.get(other.id)
    assert back is not None and untouched is not None
    assert (back.state, back.attempts, back.lost_count) == (JobState.waiting, 0, 1)
    assert untouched.state == JobState.active and untouched.lost_count == 0
    sent: list[str] = []
    assert sweep(db_settings, sent.append).reenqueued == [mine.id]  # the next sweep sends it
    assert sent == [mine.id]


def test_the_stale_cutoff_is_heartbeat_stale_sec_itself(
    db_settings: Settings, session: Session
) -> None:
    """Issue 19 §6: a heartbeat just past HEARTBEAT_STALE_SEC is stale, one just inside it is
    not (aging to hours or to 10x the cutoff would let a looser cutoff pass)."""
    stale_sec = db_settings.heartbeat_stale_sec
    repo = JobRepository(session)
    common = {"sha256": "s" * 64, "size_bytes": 1, "settings_fingerprint": "f" * 64}
    just_past = repo.add(Job(**common, max_attempts=3))
    just_inside = repo.add(Job(**common, max_attempts=3))
    session.commit()
    for job in (just_past, just_inside):
        assert repo.claim(job.id, stale_cutoff(60)) is not None
    session.commit()
    now = utcnow()
    for job, age in ((just_past, stale_sec + 3), (just_inside, stale_sec - 5)):
        session.execute(
            update(Job).where(Job.id == job.id).values(heartbeat_at=now - timedelta(seconds=age))
        )
    session.commit()
    sent: list[str] = []
    report = sweep(db_settings, sent.append)
    assert report.requeued == [just_past.id] and sent == [just_past.id]
    session.expire_all()
    inside = repo.get(just_inside.id, any_owner=True)
    assert inside is not None and inside.state == JobState.active


class _Broker:
    """A broker as the sweeper sees it: whether it forgot, and how many messages it holds."""

    def __init__(self, forgot: bool = False, queued: int | None = 0) -> None:
        self._forgot = forgot
        self._queued = queued

    def forgot(self) -> bool:
        forgot, self._forgot = self._forgot, False
        return forgot

    def queued(self) -> int | None:
        return self._queued


def _waiting(session: Session, n: int, age_sec: float) -> list[str]:
    repo = JobRepository(session)
    jobs = [
        repo.add(Job(sha256="s" * 64, size_bytes=1, settings_fingerprint="f" * 64))
        for _ in range(n)
    ]
    session.commit()
    ids = [j.id for j in jobs]
    session.execute(
        update(Job).where(Job.id.in_(ids)).values(updated_at=utcnow() - timedelta(seconds=age_sec))
    )
    session.commit()
    return ids


def test_a_broker_that_forgot_gets_every_waiting_job_again_at_once(
    db_settings: Settings, session: Session
) -> None:
    """Issue 19 §1: the database is the truth. Jobs waiting one minute (far inside the
    ten-minute age guard) are re-sent by the first sweep after the broker restarted empty."""
    ids = _waiting(session, 3, age_sec=60)
    sent: list[str] = []
    assert sweep(db_settings, sent.append, broker=_Broker(queued=3)).reenqueued == []
    assert sent == []  # the broker holds their messages: nothing to do
    report = sweep(db_settings, sent.append, broker=_Broker(forgot=True, queued=0))
    assert sorted(report.reenqueued) == sorted(ids) and sorted(sent) == sorted(ids)
    # once: the next sweep finds the messages there again
    assert sweep(db_settings, sent.append, broker=_Broker(queued=3)).reenqueued == []


def test_fewer_messages_than_settled_waiting_jobs_resends_them(
    db_settings: Settings, session: Session
) -> None:
    """A broker that lost some messages (restored from an older snapshot): the count of
    messages against the jobs waiting past the grace finds it."""
    settled = _waiting(session, 4, age_sec=60)
    fresh = _waiting(session, 2, age_sec=0)  # just sent: their messages may be in flight
    sent: list[str] = []
    report = sweep(db_settings, sent.append, broker=_Broker(queued=1))
    assert sorted(report.reenqueued) == sorted(settled) and not set(sent) & set(fresh)
    assert sweep(db_settings, sent.append, broker=_Broker(queued=None)).reenqueued == []


def test_running_jobs_messages_do_not_hide_lost_ones(
    db_settings: Settings, session: Session
) -> None:
    """Each running job holds an unacknowledged message that the broker counts: 2 running and
    2 settled waiting jobs need 4 messages, so 3 means one was lost."""
    settled = _waiting(session, 2, age_sec=60)
    running = _waiting(session, 2, age_sec=0)
    session.execute(
        update(Job)
        .where(Job.id.in_(running))
        .values(state=JobState.active.value, heartbeat_at=utcnow())
    )
    session.commit()
    sent: list[str] = []
    assert sweep(db_settings, sent.append, broker=_Broker(queued=4)).reenqueued == []
    report = sweep(db_settings, sent.append, broker=_Broker(queued=3))
    assert sorted(report.reenqueued) == sorted(settled)


@pytest.mark.redis
def test_the_redis_broker_watch_sees_a_restart_and_counts_messages() -> None:
    import redis

    from reels_scripter.worker.broker_watch import MARKER_KEY, RedisBrokerWatch

    db = 0
    client = redis.Redis.from_url(f"redis://127.0.0.1:6379/{db}")
    queue = f"reels-watch-{uuid.uuid4().hex[:8]}"
    watch = RedisBrokerWatch(f"redis://127.0.0.1:6379/{db}", [queue, f"{queue}.priority"])
    try:
        client.rpush(queue, b"a", b"b")
        client.rpush(f"{queue}.priority", b"c")
        client.rpush(f"{queue}\x06\x163", b"d")
        client.rpush(f"{queue}-other", b"not ours")
        before = int(client.hlen("unacked"))
        assert watch.queued() == 4 + before
        watch.forgot()  # the marker exists from here on
        assert watch.forgot() is False
        client.delete(MARKER_KEY)  # what a restart without persistence leaves
        assert watch.forgot() is True and watch.forgot() is False
    finally:
        client.delete(queue, f"{queue}.priority", f"{queue}\x06\x163", f"{queue}-other")
