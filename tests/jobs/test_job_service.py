from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from reels_scripter.config import Settings
from reels_scripter.db import session_factory
from reels_scripter.jobs import JobService, JobState, settings_fingerprint
from reels_scripter.storage import get_storage
from reels_scripter.storage.local import LocalStorage
from support.settings import make_settings


def upload(storage: LocalStorage, tmp_path: Path, data: bytes = b"video") -> str:
    src = tmp_path / "upload.bin"
    src.write_bytes(data)
    name = storage.new_object_name()
    storage.upload_file(src, name, "video/mp4")
    return name


def test_submit_commits_then_enqueues(db_settings: Settings, session: Session, tmp_path: Path):
    storage = LocalStorage.from_settings(db_settings)
    seen: list[tuple[str, str]] = []

    def enqueue(job_id: str) -> None:
        # Another connection must already see the row when the id reaches the queue.
        with session_factory(db_settings)() as other:
            row = JobService(other, storage, db_settings).get(job_id, "k1")
            seen.append((job_id, row.state if row else "missing"))

    service = JobService(session, storage, db_settings, enqueue)
    name = upload(storage, tmp_path)
    job = service.submit(
        object_name=name,
        sha256="1" * 64,
        display_name="../../etc/x.mp4",
        size_bytes=5,
        duration=3.5,
        owner="k1",
    )
    assert seen == [(job.id, JobState.waiting)]
    assert job.object_name == name and job.display_name == "../../etc/x.mp4"
    assert job.settings_fingerprint == settings_fingerprint(db_settings)
    assert job.max_attempts == db_settings.job_max_attempts
    assert service.counts_by_state()["waiting"] == 1


def test_submit_of_a_known_video_reuses_the_result(
    db_settings: Settings, session: Session, tmp_path: Path
) -> None:
    storage = LocalStorage.from_settings(db_settings)
    enqueued: list[str] = []
    service = JobService(session, storage, db_settings, enqueued.append)
    first = service.submit(
        object_name=upload(storage, tmp_path),
        sha256="2" * 64,
        display_name="a.mp4",
        size_bytes=5,
        duration=1.0,
        owner="k1",
    )
    first.state, first.result, first.provider = JobState.completed, {"keys": []}, "local"
    session.commit()

    name = upload(storage, tmp_path)
    again = service.submit(
        object_name=name,
        sha256="2" * 64,
        display_name="b.mp4",
        size_bytes=5,
        duration=1.0,
        owner="k2",
    )
    assert enqueued == [first.id]  # no second analysis
    assert again.id != first.id and again.state == JobState.completed
    assert again.result == {"keys": []} and again.progress == 100 and again.provider == "local"
    assert again.owner == "k2" and again.object_name is None
    assert not storage.exists(name)  # the duplicate upload is not kept

    # Other analysis settings are a different fingerprint: analysed again.
    other = make_settings(
        db_settings.data_dir, DATABASE_URL=db_settings.database_url, TARGET_LANGUAGE="en"
    )
    third = JobService(session, storage, other, enqueued.append).submit(
        object_name=upload(storage, tmp_path),
        sha256="2" * 64,
        display_name=None,
        size_bytes=5,
        duration=None,
        owner="k1",
    )
    assert third.state == JobState.waiting and enqueued[-1] == third.id


def test_get_history_delete_respect_owner(db_settings: Settings, session: Session, tmp_path: Path):
    storage = get_storage(db_settings)
    assert isinstance(storage, LocalStorage)
    service = JobService(session, storage, db_settings)
    jobs = [
        service.submit(
            object_name=upload(storage, tmp_path),
            sha256=f"{i}" * 64,
            display_name=f"{i}.mp4",
            size_bytes=1,
            duration=None,
            owner="k1",
        )
        for i in range(3)
    ]
    assert service.get(jobs[0].id, "k2") is None
    assert service.get(jobs[0].id, None) is None
    items, total = service.history("k1", limit=2, offset=0)
    assert total == 3 and len(items) == 2
    assert service.history("k1", limit=0, offset=-5)[0]  # clamped, never empty by mistake

    name = jobs[0].object_name
    assert name is not None and storage.exists(name)
    assert not service.delete(jobs[0].id, "k2")
    assert service.delete(jobs[0].id, "k1")
    assert not storage.exists(name)
    assert service.get(jobs[0].id, "k1") is None
    assert not service.delete(jobs[0].id, "k1")


def test_enqueue_failure_keeps_the_job(db_settings: Settings, session: Session, tmp_path: Path):
    storage = LocalStorage.from_settings(db_settings)

    def broken(job_id: str) -> None:
        raise ConnectionError("broker down")

    job = JobService(session, storage, db_settings, broken).submit(
        object_name=upload(storage, tmp_path),
        sha256="9" * 64,
        display_name=None,
        size_bytes=1,
        duration=None,
        owner=None,
    )
    assert job.state == JobState.waiting  # the sweeper re-sends lost messages
