from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from reels_scripter.config import Settings
from reels_scripter.db import session_factory, utcnow
from reels_scripter.jobs.models import Job, JobState
from reels_scripter.jobs.repository import Claim, JobRepository, stale_cutoff
from support.threads import run_in_threads


def add_job(session: Session, **kw: object) -> Job:
    values: dict[str, object] = {
        "sha256": "a" * 64,
        "size_bytes": 10,
        "settings_fingerprint": "f" * 64,
        "max_attempts": 3,
        "object_name": "uploads/x",
        **kw,
    }
    job = JobRepository(session).add(Job(**values))
    session.commit()
    return job


def add_done(session: Session, sha256: str, **kw: object) -> Job:
    """A completed job for `sha256`, as a finished analysis leaves it."""
    return add_job(
        session,
        sha256=sha256,
        state=JobState.completed,
        result={"ok": True},
        finished_at=utcnow(),
        **kw,
    )


def test_claim_is_atomic_across_sessions(db_settings: Settings, session: Session) -> None:
    """Many workers race for one job: exactly one claim wins."""
    job = add_job(session)
    sessions = session_factory(db_settings)
    wins: list[Claim] = []
    barrier = threading.Barrier(4)

    def race() -> None:
        with sessions() as s:
            barrier.wait()
            claim = JobRepository(s).claim(job.id, stale_cutoff(60))
            s.commit()
            if claim is not None:
                wins.append(claim)

    run_in_threads(race, 4)
    assert len(wins) == 1 and wins[0].attempt == 1
    session.expire_all()
    row = JobRepository(session).get(job.id)
    assert row is not None and row.state == JobState.active and row.attempts == 1


def test_claim_takes_over_only_a_stale_active_job(session: Session) -> None:
    repo = JobRepository(session)
    job = add_job(session)
    first = repo.claim(job.id, stale_cutoff(60))
    session.commit()
    assert first is not None
    assert repo.claim(job.id, stale_cutoff(60)) is None  # fresh heartbeat: still taken
    # From the point of view of a moment 2 minutes later, the heartbeat is stale.
    second = repo.claim(job.id, utcnow() + timedelta(minutes=2))
    session.commit()
    # taking over from a dead worker counts a loss, not an attempt (not the job's fault)
    assert second is not None and (second.attempt, second.losses) == (1, 1)
    # The first worker is fenced out: its writes no longer land.
    assert not repo.set_progress(first, "video", 50)
    assert not repo.complete(first, {"x": 1}, "local", None)
    assert repo.complete(second, {"x": 2}, "local", None)
    session.commit()
    assert repo.claim(job.id, utcnow() + timedelta(hours=1)) is None  # finished


def test_claim_respects_max_attempts(session: Session) -> None:
    job = add_job(session, attempts=3, max_attempts=3)
    assert JobRepository(session).claim(job.id, stale_cutoff(60)) is None


def test_claim_takes_over_a_dead_workers_job_only_while_losses_are_left(session: Session) -> None:
    repo = JobRepository(session)
    later = utcnow() + timedelta(minutes=2)
    job = add_job(session, attempts=3, max_attempts=3)  # every attempt spent...
    session.execute(
        update(Job)
        .where(Job.id == job.id)
        .values(state=JobState.active, heartbeat_at=utcnow(), lost_count=1)
    )
    session.commit()
    # ...but a lost run is not an attempt: the takeover is allowed while losses are left
    claim = repo.claim(job.id, later, max_losses=3)
    assert claim is not None and (claim.attempt, claim.losses) == (3, 2)
    session.commit()
    assert repo.claim(job.id, utcnow() + timedelta(minutes=4), max_losses=3) is None


def test_the_fence_tells_every_claim_apart(session: Session) -> None:
    """A run presumed dead and replaced never writes over its successor, also when the
    successor has the same attempt number (a loss gives the attempt back)."""
    repo = JobRepository(session)
    job = add_job(session)
    first = repo.claim(job.id, stale_cutoff(60))
    session.commit()
    assert first is not None
    session.execute(
        update(Job).where(Job.id == job.id).values(heartbeat_at=utcnow() - timedelta(minutes=5))
    )
    swept = repo.requeue_stale(stale_cutoff(60), ("lost", "worker_lost"))
    assert swept.requeued == [job.id]
    second = repo.claim(job.id, stale_cutoff(60), worker="reels-2@host")
    session.commit()
    assert second is not None and second.attempt == first.attempt == 1
    assert second.losses == first.losses + 1
    assert not repo.heartbeat(first) and not repo.complete(first, {"x": 1}, "local", None)
    assert repo.heartbeat(second)
    session.commit()
    session.expire_all()
    row = repo.get(job.id)
    assert row is not None and row.claimed_by == "reels-2@host" and row.lost_count == 1


def test_progress_never_decreases(session: Session) -> None:
    repo = JobRepository(session)
    job = add_job(session)
    claim = repo.claim(job.id, stale_cutoff(60))
    assert claim is not None
    for stage, p in [("probe", 5), ("video", 40), ("speech", 30), ("audio", 41), ("ai", 12)]:
        assert repo.set_progress(claim, stage, p)
    session.commit()
    session.expire_all()
    row = repo.get(job.id)
    assert row is not None and row.progress == 41 and row.stage == "ai"


def test_progress_never_decreases_across_a_retry(session: Session) -> None:
    repo = JobRepository(session)
    job = add_job(session)
    first = repo.claim(job.id, stale_cutoff(60))
    assert first is not None and repo.set_progress(first, "speech", 60)
    assert repo.release_for_retry(first, "Хранилище недоступно", "storage_failed")
    second = repo.claim(job.id, stale_cutoff(60))
    assert second is not None and second.attempt == 2
    assert repo.set_progress(second, "download", 0)  # the new attempt starts over
    assert repo.set_progress(second, "video", 30)
    session.commit()
    session.expire_all()
    row = repo.get(job.id)
    assert row is not None and (row.progress, row.stage, row.attempts) == (60, "video", 2)


def test_history_is_paginated_newest_first_per_owner(session: Session) -> None:
    base = utcnow()
    for i in range(7):
        add_job(session, owner="alice", created_at=base + timedelta(seconds=i), display_name=str(i))
    add_job(session, owner="bob", created_at=base + timedelta(seconds=100))
    add_job(session, owner=None, created_at=base + timedelta(seconds=100))
    repo = JobRepository(session)
    page1, total = repo.list_for_owner("alice", 3, 0)
    page3, _ = repo.list_for_owner("alice", 3, 6)
    assert total == 7
    assert [j.display_name for j in page1] == ["6", "5", "4"]
    assert [j.display_name for j in page3] == ["0"]
    assert repo.list_for_owner(None, 10, 0)[1] == 1
    # Ownership is part of every lookup.
    assert repo.get(page1[0].id, "bob") is None
    assert repo.get(page1[0].id, "alice") is not None


def test_find_completed_duplicate(session: Session) -> None:
    repo = JobRepository(session)
    sha, fp = "b" * 64, "f" * 64
    add_job(session, sha256=sha, state=JobState.failed, provider="local")
    assert repo.find_completed_duplicate(sha, fp, None, "local") is None
    done = add_done(session, sha, provider="local")
    assert repo.find_completed_duplicate(sha, fp, None, "local") == done
    assert repo.find_completed_duplicate(sha, "other", None, "local") is None
    assert repo.find_completed_duplicate("c" * 64, fp, None, "local") is None
    # one owner's result is no other owner's duplicate, nor a keyless one's, nor the reverse
    owned = add_done(session, sha, provider="local", owner="key_a")
    assert repo.find_completed_duplicate(sha, fp, "key_a", "local") == owned
    assert repo.find_completed_duplicate(sha, fp, "key_b", "local") is None
    assert repo.find_completed_duplicate(sha, fp, None, "local") == done
    # written by another provider than the configured one (a fallback): never reused
    assert repo.find_completed_duplicate(sha, fp, None, "gemini") is None
    by_gemini = add_done(session, sha, provider="gemini")
    assert repo.find_completed_duplicate(sha, fp, None, "gemini") == by_gemini


def test_requeue_stale_and_give_up(session: Session) -> None:
    repo = JobRepository(session)
    retryable = add_job(session, object_name="uploads/r", max_attempts=1)
    exhausted = add_job(session, lost_count=4, object_name="uploads/e")
    healthy = add_job(session)
    for job in (retryable, exhausted, healthy):
        assert repo.claim(job.id, stale_cutoff(60)) is not None
    session.commit()
    old = utcnow() - timedelta(minutes=10)
    for job in (retryable, exhausted):
        job_row = repo.get(job.id)
        assert job_row is not None
        job_row.heartbeat_at = old
    session.commit()
    swept = repo.requeue_stale(stale_cutoff(60), ("Обработчик упал", "worker_lost"), 5)
    session.commit()
    assert swept.requeued == [retryable.id]
    assert swept.failed == [(exhausted.id, "uploads/e")]
    session.expire_all()
    rows = {j.id: j for j in repo.list_for_owner(None, 10, 0)[0]}
    states = {job_id: (j.state, j.error_code) for job_id, j in rows.items()}
    assert states[retryable.id] == (JobState.waiting, None)
    # a lost run gives its attempt back: a job with one attempt can still be run
    assert (rows[retryable.id].attempts, rows[retryable.id].lost_count) == (0, 1)
    assert states[exhausted.id] == (JobState.failed, "worker_lost")
    assert rows[exhausted.id].lost_count == 5
    assert states[healthy.id] == (JobState.active, None)
    assert repo.object_names_in_use() == {"uploads/r", "uploads/x"}


def test_counts_by_state(session: Session) -> None:
    add_job(session)
    add_job(session, state=JobState.completed)
    add_job(session, state=JobState.completed)
    assert JobRepository(session).count_by_state() == {
        "waiting": 1,
        "active": 0,
        "completed": 2,
        "failed": 0,
    }
