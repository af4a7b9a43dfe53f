from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from reels_scripter.analysis.errors import NotAVideoError
from reels_scripter.config import Settings
from reels_scripter.db import session_factory
from reels_scripter.jobs import JobService, JobState, settings_fingerprint
from reels_scripter.jobs.service import Upload, display_name
from reels_scripter.jobs.sweeper import sweep
from reels_scripter.storage import get_storage
from reels_scripter.storage.local import LocalStorage
from support.factories import submit_job
from support.settings import make_settings


def stored_uploads(storage: LocalStorage) -> list[Path]:
    folder = storage.root / "uploads"
    return sorted(folder.glob("*")) if folder.is_dir() else []


def test_submit_commits_then_enqueues(db_settings: Settings, session: Session) -> None:
    storage = LocalStorage.from_settings(db_settings)
    seen: list[tuple[str, str]] = []

    def enqueue(job_id: str) -> None:
        # Another connection must already see the row when the id reaches the queue.
        with session_factory(db_settings)() as other:
            row = JobService(other, storage, db_settings).get(job_id, "k1")
            seen.append((job_id, row.state if row else "missing"))

    job = submit_job(
        session, db_settings, storage=storage, enqueue=enqueue, owner="k1", display_name="x.mp4"
    )
    assert seen == [(job.id, JobState.waiting)]
    assert job.object_name is not None and storage.exists(job.object_name)
    assert job.settings_fingerprint == settings_fingerprint(db_settings)
    assert job.max_attempts == db_settings.job_max_attempts
    assert JobService(session, storage, db_settings).counts_by_state()["waiting"] == 1


def test_submit_upload_stores_probe_facts_and_a_random_object(
    db_settings: Settings, session: Session, reel, tmp_path: Path
) -> None:
    storage = LocalStorage.from_settings(db_settings)
    src = reel("clip", duration=1.0, cuts=(), container="webm", codec="libvpx-vp9")
    service = JobService(session, storage, db_settings)
    job = service.submit_upload(
        Upload(path=src, size=src.stat().st_size, sha256="a" * 64, filename="../../etc/clip"),
        owner=None,
    )
    # the content decides the MIME type, not the (extension-less) client name
    assert job.probe is not None and job.probe["mime_type"] == "video/webm"
    assert job.probe["family"] == "webm" and job.duration == pytest.approx(1.0, abs=0.1)
    assert job.display_name == "clip"  # no directories
    assert job.object_name is not None and "clip" not in job.object_name
    assert storage.exists(job.object_name)


def test_submit_upload_of_a_non_video_leaves_nothing(
    db_settings: Settings, session: Session, tmp_path: Path
) -> None:
    storage = LocalStorage.from_settings(db_settings)
    src = tmp_path / "notes.mp4"
    src.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    service = JobService(session, storage, db_settings)
    with pytest.raises(NotAVideoError):
        service.submit_upload(Upload(path=src, size=208, sha256="b" * 64), owner=None)
    assert stored_uploads(storage) == []
    assert service.counts_by_state() == {s.value: 0 for s in JobState}


def test_submit_of_a_known_video_reuses_the_result(db_settings: Settings, session: Session) -> None:
    storage = LocalStorage.from_settings(db_settings)
    enqueued: list[str] = []
    first = submit_job(
        session, db_settings, storage=storage, enqueue=enqueued.append, sha256="2" * 64
    )
    first.state, first.result, first.provider = JobState.completed, {"keys": []}, "local"
    session.commit()

    again = submit_job(
        session, db_settings, storage=storage, enqueue=enqueued.append, sha256="2" * 64
    )
    assert enqueued == [first.id]  # no second analysis
    assert again.id != first.id and again.state == JobState.completed
    assert again.result == {"keys": []} and again.progress == 100 and again.provider == "local"
    assert again.owner is None and again.object_name is None
    assert len(stored_uploads(storage)) == 1  # the duplicate upload is not kept

    # Another owner's upload of the same bytes is its own analysis (dedupe is per owner).
    tenant = submit_job(
        session, db_settings, storage=storage, enqueue=enqueued.append, sha256="2" * 64, owner="k2"
    )
    assert tenant.state == JobState.waiting and enqueued[-1] == tenant.id

    # Other analysis settings are a different fingerprint: analysed again.
    other = make_settings(
        db_settings.data_dir, DATABASE_URL=db_settings.database_url, TARGET_LANGUAGE="en"
    )
    third = submit_job(session, other, storage=storage, enqueue=enqueued.append, sha256="2" * 64)
    assert third.id != tenant.id
    assert third.state == JobState.waiting and enqueued[-1] == third.id


@pytest.mark.parametrize(
    "change",
    [
        {"AI_PROVIDER": "gemini"},
        {"AI_PROVIDER": "gemini", "GEMINI_MODEL": "another-model"},
        {"AI_PROVIDER": "openai", "OPENAI_MODEL": "another-model"},
        {"AI_FALLBACK": "local"},
        {"WHISPER_MODEL": "small"},
        {"TARGET_LANGUAGE": "en"},
    ],
)
def test_fingerprint_changes_with_what_changes_results(
    tmp_path: Path, change: dict[str, str]
) -> None:
    base = {"AI_PROVIDER": "gemini"} if "GEMINI_MODEL" in change else {}
    if "OPENAI_MODEL" in change:
        base = {"AI_PROVIDER": "openai"}
    before = settings_fingerprint(make_settings(tmp_path, **base))
    assert settings_fingerprint(make_settings(tmp_path, **{**base, **change})) != before


def test_fingerprint_ignores_what_does_not_change_results(tmp_path: Path) -> None:
    before = settings_fingerprint(make_settings(tmp_path))
    after = settings_fingerprint(make_settings(tmp_path, PORT=4000, LOG_LEVEL="DEBUG"))
    assert after == before


def test_get_history_delete_respect_owner(db_settings: Settings, session: Session) -> None:
    storage = get_storage(db_settings)
    assert isinstance(storage, LocalStorage)
    service = JobService(session, storage, db_settings)
    jobs = [submit_job(session, db_settings, storage=storage, owner="k1") for _ in range(3)]
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


@pytest.mark.parametrize("job_id", ["", "x", "\x00", "0" * 36, "%00", "a" * 10_000])
def test_malformed_job_ids_are_no_job(db_settings: Settings, session: Session, job_id: str) -> None:
    service = JobService(session, get_storage(db_settings), db_settings)
    assert service.get(job_id, None) is None
    assert not service.delete(job_id, None)


def test_enqueue_failure_keeps_the_job(db_settings: Settings, session: Session) -> None:
    def broken(job_id: str) -> None:
        raise ConnectionError("broker down")

    job = submit_job(session, db_settings, enqueue=broken)
    assert job.state == JobState.waiting  # the sweeper re-sends lost messages
    with session_factory(db_settings)() as other:
        row = JobService(other, get_storage(db_settings), db_settings).get(job.id, None)
        assert row is not None and row.state == JobState.waiting
        assert row.object_name == job.object_name
    # the very next sweep sends it (not only after the wait that guards a long backlog)
    sent: list[str] = []
    report = sweep(db_settings, sent.append)
    assert sent == [job.id] and report.reenqueued == [job.id]
    assert sweep(db_settings, sent.append).reenqueued == []  # once; then it waits its turn


def test_display_name_keeps_no_directories_or_control_characters() -> None:
    assert display_name("../../etc/passwd") == "passwd"
    assert display_name("C:\\Users\\me\\видео.mp4") == "видео.mp4"
    assert display_name("a\x00b\nc.mp4") == "abc.mp4"
    assert display_name("") is None and display_name(None) is None
    assert display_name("x" * 300) == "x" * 255
