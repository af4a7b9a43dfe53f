"""The task logic (`run_job`) in-process, without a broker: claim, clean-up, retry policy."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from reels_scripter.config import Settings
from reels_scripter.db import utcnow
from reels_scripter.errors import one_line
from reels_scripter.jobs import Job, JobService, JobState, keyframes
from reels_scripter.jobs.failures import backoff_seconds
from reels_scripter.jobs.runner import run_job
from reels_scripter.jobs.sweeper import sweep
from reels_scripter.storage import StorageError
from reels_scripter.storage.local import LocalStorage
from support.factories import submit_job


class FlakyStorage(LocalStorage):
    """A storage backend whose first `failures` downloads hit a (simulated) network outage."""

    def __init__(self, root: Path, failures: int) -> None:
        super().__init__(root)
        self.failures = failures

    def download_to(self, name: str, local: Path) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise StorageError("storage download failed: ConnectionError", transient=True)
        super().download_to(name, local)


def reload(session: Session, job_id: str) -> Job:
    session.expire_all()
    job = session.get(Job, job_id)
    assert job is not None
    return job


def temp_files(settings: Settings) -> list[Path]:
    tmp = settings.data_dir / "tmp"
    return list(tmp.iterdir()) if tmp.is_dir() else []


def test_missing_video_fails_permanently(db_settings: Settings, session: Session) -> None:
    storage = LocalStorage.from_settings(db_settings)
    job = submit_job(session, db_settings, b"x", storage=storage)
    assert job.object_name
    storage.delete(job.object_name)
    outcome = run_job(job.id, db_settings, storage=storage)
    assert outcome.status == "failed" and outcome.code == "video_missing"
    row = reload(session, job.id)
    assert row.state == JobState.failed and row.error_code == "video_missing"
    assert row.error == "Загруженное видео больше не доступно, загрузите его снова."
    assert row.attempts == 1 and row.finished_at is not None and row.object_name is None
    assert temp_files(db_settings) == []
    assert run_job(job.id, db_settings, storage=storage).status == "skipped"  # finished


def test_transient_errors_retry_then_fail_with_the_error_kept(
    db_settings: Settings, session: Session, tmp_path: Path
) -> None:
    storage = FlakyStorage(db_settings.data_dir / "storage", failures=10)
    job = submit_job(session, db_settings, b"x", storage=storage)
    name = job.object_name
    assert name and db_settings.job_max_attempts == 3
    for attempt in (1, 2):
        outcome = run_job(job.id, db_settings, storage=storage)
        assert outcome.status == "retry" and outcome.countdown is not None
        row = reload(session, job.id)
        assert (row.state, row.attempts, row.stage) == (JobState.waiting, attempt, "retrying")
        assert row.error_code == "storage_failed" and storage.exists(name)
    outcome = run_job(job.id, db_settings, storage=storage)
    assert outcome.status == "failed"
    row = reload(session, job.id)
    assert row.state == JobState.failed and row.attempts == 3
    assert row.error == "Хранилище файлов недоступно, попробуйте позже."
    assert not storage.exists(name) and temp_files(db_settings) == []


def test_backoff_grows_and_is_capped(db_settings: Settings) -> None:
    d1, d2, d3 = (backoff_seconds(n, db_settings) for n in (1, 2, 3))
    assert 10 <= d1 <= 11 and 20 <= d2 <= 22 and 40 <= d3 <= 44
    assert backoff_seconds(30, db_settings) <= db_settings.job_retry_backoff_max_sec * 1.1


def test_one_line() -> None:
    assert one_line("bad\n  file\tformat") == "bad file format"
    assert len(one_line("x" * 1000)) == 300


def test_good_reel_completes_and_bad_file_fails(
    db_settings: Settings,
    session: Session,
    reel: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    storage = LocalStorage.from_settings(db_settings)
    good = submit_job(
        session, db_settings, reel("good.mp4", duration=2.0, cuts=(1.0,)), storage=storage
    )
    bad = submit_job(session, db_settings, b"this is not a video at all" * 10, storage=storage)
    good_name, bad_name = good.object_name, bad.object_name
    assert good_name and bad_name

    # The upload's probe facts travel with the job: the worker starts no probe process.
    def no_probe(*_: object) -> None:
        raise AssertionError("the worker probed the video again")

    with monkeypatch.context() as patched:
        # the package re-exports the function `probe`, which hides the module of that name
        patched.setattr(
            importlib.import_module("reels_scripter.analysis.probe"), "run_child", no_probe
        )
        assert run_job(good.id, db_settings, storage=storage).status == "completed"
    row = reload(session, good.id)
    assert row.state == JobState.completed and row.progress == 100 and row.stage == "done"
    assert row.result is not None and row.result["meta"]["provider"] == row.provider == "local"
    # the video stays for playback in the studio, until VIDEO_RETENTION_HOURS (24) are up
    assert row.object_name == good_name and storage.exists(good_name)
    assert row.video_expires_at is not None and row.finished_at is not None
    kept = (row.video_expires_at - row.finished_at).total_seconds()
    assert abs(kept - 24 * 3600) < 60

    outcome = run_job(bad.id, db_settings, storage=storage)
    assert outcome.status == "failed"
    row = reload(session, bad.id)
    assert row.state == JobState.failed and row.attempts == 1  # input errors are not retried
    assert row.error_code not in (None, "internal_error") and "\n" not in (row.error or "")
    assert row.stage == "failed" and any("а" <= ch <= "я" for ch in (row.error or ""))
    assert not storage.exists(bad_name)
    assert temp_files(db_settings) == []


def test_keyframes_are_shared_by_duplicates_and_go_with_the_last_job(
    db_settings: Settings, session: Session, reel: Callable[..., Path]
) -> None:
    storage = LocalStorage.from_settings(db_settings)
    src = reel("kf.mp4", duration=3.0, cuts=(1.5,))
    sha = "kf".ljust(64, "0")
    first = submit_job(session, db_settings, src, storage=storage, sha256=sha)
    assert run_job(first.id, db_settings, storage=storage).status == "completed"
    row = reload(session, first.id)
    assert row.result is not None
    # the hash taken at upload is reused, not recomputed (this test's is not the real one)
    assert row.result["meta"]["sha256"] == row.sha256 == sha
    names = [s["keyframe"] for s in row.result["timeline"]["scenes"]]
    stored = [keyframes.object_name(None, sha, i) for i in range(2)]
    assert names == stored  # one stable reference: the storage object, never a server path
    assert all(storage.exists(n) for n in stored)
    assert storage.read_bytes(stored[1])[:2] == b"\xff\xd8"
    assert temp_files(db_settings) == []  # nothing but the download touched local disk

    # same content again: deduplicated, same pictures, links under the new job's own id
    second = submit_job(session, db_settings, src, storage=storage, sha256=sha)
    assert second.state == JobState.completed
    # the duplicate shares the first job's kept video: no second copy is stored
    assert second.object_name == row.object_name is not None
    assert second.video_expires_at == row.video_expires_at
    assert len(list((storage.root / "uploads").iterdir())) == 1
    shown = keyframes.with_urls(second.result, second.id)
    assert shown is not None
    assert shown["timeline"]["scenes"][1]["keyframe"] == f"/api/jobs/{second.id}/keyframes/1.jpg"
    assert second.result is not None
    assert second.result["timeline"]["scenes"][1]["keyframe"] == stored[1]  # not rewritten

    service = JobService(session, storage, db_settings)
    video = row.object_name
    assert service.delete(first.id, None)
    assert all(storage.exists(n) for n in stored)  # still used by the duplicate
    assert storage.exists(video)  # so is the video
    assert service.delete(second.id, None)
    assert not any(storage.exists(n) for n in stored)
    assert not storage.exists(video)  # the last job that names it takes it at once
    assert not (storage.root / "keyframes" / keyframes.NO_OWNER / sha).exists()  # no empty folder


def test_kept_videos_are_deleted_after_their_retention(
    db_settings: Settings, session: Session, reel: Callable[..., Path]
) -> None:
    storage = LocalStorage.from_settings(db_settings)
    src = reel("kept.mp4", duration=2.0)
    job = submit_job(session, db_settings, src, storage=storage, sha256="k" * 64)
    assert run_job(job.id, db_settings, storage=storage).status == "completed"
    twin = submit_job(session, db_settings, src, storage=storage, sha256="k" * 64)
    name = reload(session, job.id).object_name
    assert name and twin.object_name == name

    assert sweep(db_settings, lambda _id: None, storage=storage).expired_videos == []
    assert storage.exists(name)  # within its retention: the sweeper leaves it
    past = utcnow() - timedelta(minutes=1)
    session.execute(update(Job).where(Job.object_name == name).values(video_expires_at=past))
    session.commit()
    report = sweep(db_settings, lambda _id: None, storage=storage)
    assert report.expired_videos == [name] and not storage.exists(name)
    for job_id in (job.id, twin.id):
        row = reload(session, job_id)
        assert row.object_name is None and row.video_expires_at is None
        assert row.result is not None  # the result stays; only the video goes


def test_no_retention_deletes_the_video_at_once(
    db_settings: Settings, session: Session, reel: Callable[..., Path]
) -> None:
    settings = db_settings.model_copy(update={"video_retention_hours": 0})
    storage = LocalStorage.from_settings(settings)
    job = submit_job(session, settings, reel("gone.mp4", duration=2.0), storage=storage)
    name = job.object_name
    assert name and run_job(job.id, settings, storage=storage).status == "completed"
    row = reload(session, job.id)
    assert row.object_name is None and not storage.exists(name)


def test_two_keys_share_no_duplicate_and_the_last_delete_removes_shared_objects(
    db_settings: Settings, session: Session, reel: Callable[..., Path]
) -> None:
    """Issue 19: dedupe is scoped to one owner, and stored objects are reference-counted
    within it; with two keys nothing crosses, and nothing is left behind."""
    storage = LocalStorage.from_settings(db_settings)
    src = reel("tenants.mp4", duration=2.0, cuts=(1.0,))
    sha = "ab".ljust(64, "0")
    key_a, key_b = "key_aaaa", "key_bbbb"

    first_a = submit_job(session, db_settings, src, storage=storage, sha256=sha, owner=key_a)
    assert run_job(first_a.id, db_settings, storage=storage).status == "completed"
    # another key's upload of the same bytes is analysed for it, not answered from A's job
    first_b = submit_job(session, db_settings, src, storage=storage, sha256=sha, owner=key_b)
    assert first_b.state == JobState.waiting and first_b.stage != "deduplicated"
    assert run_job(first_b.id, db_settings, storage=storage).status == "completed"
    # the same key again: deduplicated, sharing A's stored video and keyframes
    second_a = submit_job(session, db_settings, src, storage=storage, sha256=sha, owner=key_a)
    assert second_a.state == JobState.completed and second_a.stage == "deduplicated"
    # keys off (no owner) is one more scope of its own
    anonymous = submit_job(session, db_settings, src, storage=storage, sha256=sha)
    assert anonymous.state == JobState.waiting
    service = JobService(session, storage, db_settings)
    assert service.delete(anonymous.id, None)

    row_a, row_b = reload(session, first_a.id), reload(session, first_b.id)
    assert row_a.object_name and row_b.object_name and row_a.object_name != row_b.object_name
    assert second_a.object_name == row_a.object_name
    a_frames = [s["keyframe"] for s in (row_a.result or {})["timeline"]["scenes"]]
    b_frames = [s["keyframe"] for s in (row_b.result or {})["timeline"]["scenes"]]
    assert a_frames and not set(a_frames) & set(b_frames)  # no object shared across keys
    assert all(storage.exists(n) for n in a_frames + b_frames)

    assert service.delete(first_a.id, key_a)
    assert storage.exists(row_a.object_name)  # A's duplicate still names them
    assert all(storage.exists(n) for n in a_frames)
    assert service.delete(second_a.id, key_a)  # A's last: A's objects go
    assert not storage.exists(row_a.object_name)
    assert not any(storage.exists(n) for n in a_frames)
    # B's job is untouched and still complete
    assert storage.exists(row_b.object_name) and all(storage.exists(n) for n in b_frames)
    assert service.delete(first_b.id, key_b)
    # nothing orphaned: no upload, no keyframe, no empty folder
    leftovers = [p for p in storage.root.rglob("*") if p.is_file()]
    assert leftovers == []
    assert not (storage.root / "keyframes").exists() or not any(
        (storage.root / "keyframes").rglob("*.jpg")
    )
