"""Gemini through the whole product: the CLI process, the pipeline's fallback, a service job.

The fake server answers from the schema each request carries (built from the rows the
pipeline plans), as constrained decoding would; the result's times must still be the measured
ones, whatever the model says.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session

from reels_scripter.analysis import analyze
from reels_scripter.config import Settings
from reels_scripter.contract import HOOK_TYPES, KEY_CATEGORIES, REQUIRED_RECOMMENDATION_KINDS
from reels_scripter.jobs import Job, JobState
from reels_scripter.jobs.runner import run_job
from reels_scripter.pipeline import analysis_options, analyze_reel
from reels_scripter.providers.base import ProviderError, RowPlan
from reels_scripter.rows import plan_rows
from reels_scripter.storage.local import LocalStorage
from reels_scripter.texts import describe
from support.factories import submit_job
from support.fake_ai import FakeGemini, Gen, Reply, google_error
from support.reelgen import make_reel
from support.settings import make_settings

CUTS = (2.0, 4.5)


@pytest.fixture(scope="module")
def speech_reel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[RowPlan]]:
    path = make_reel(
        tmp_path_factory.mktemp("reel") / "reel.mp4",
        duration=7.0,
        cuts=CUTS,
        audio="speech",
        speech_offset=0.3,
    )
    # the rows the pipeline will plan: measurements are deterministic for one file
    rows = plan_rows(analyze(path, analysis_options(Settings(_env_file=None))))
    return path, rows


def _assert_measured_times(result: dict[str, Any], rows: list[RowPlan]) -> None:
    assert [(r["start"], r["end"]) for r in result["script"]] == [(r.start, r.end) for r in rows]
    cuts = [round(s["start"], 2) for s in result["timeline"]["scenes"]]
    assert cuts[1:] == pytest.approx(list(CUTS), abs=0.25)
    words = {
        round(w["start"], 2) for seg in result["timeline"]["speech"] for w in seg["words"] or []
    }
    for row in result["script"]:  # every row starts on a measured cut or speech pause
        assert round(row["start"], 2) in set(cuts) | words


def _assert_complete(result: dict[str, Any], rows: list[RowPlan]) -> None:
    assert [k["category"] for k in result["keys"]] == list(KEY_CATEGORIES)  # 5, one each
    assert len(result["script"]) == len(rows)  # one row per planned row
    kinds = [r["kind"] for r in result["recommendations"]]
    assert set(REQUIRED_RECOMMENDATION_KINDS) <= set(kinds)
    assert result["hook_type"]["type"] in HOOK_TYPES
    _assert_measured_times(result, rows)


def _cli(
    fake: FakeGemini, path: Path, tmp_path: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reels_scripter.cli", "analyze", str(path)],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "AI_PROVIDER": "gemini",
            "GOOGLE_AI_API_KEY": "test-key-123",
            "GOOGLE_GEMINI_BASE_URL": fake.url,
            "GEMINI_RPM": "1000",
            "AI_RETRY_BASE_DELAY_SEC": "0.01",
            "DATA_DIR": str(tmp_path / "data"),
            **env,
        },
        timeout=240,
    )


def test_cli_with_gemini_completes_against_a_schema_driven_fake(
    fake_gemini: FakeGemini, speech_reel: tuple[Path, list[RowPlan]], tmp_path: Path
) -> None:
    path, rows = speech_reel
    proc = _cli(fake_gemini, path, tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    _assert_complete(result, rows)
    meta = result["meta"]
    assert meta["provider"] == "gemini" and meta["model"] == "gemini-3.5-flash-lite"
    assert meta["filled_by_local"] == []
    assert meta["usage"]["total_tokens"] == 1200
    assert meta["usage"]["cost_usd"] == pytest.approx((1000 * 0.30 + 200 * 2.50) / 1e6)
    assert all(r["text"].startswith("ответ ") for r in result["script"])  # the model's words
    # the small reel went inline, exactly once, as the whole reel plus its hook window
    (call,) = fake_gemini.generate_calls()
    parts = call.json["contents"][0]["parts"]
    assert sum("inlineData" in p for p in parts) == 2
    assert "scrolling" in json.dumps(call.json, ensure_ascii=False).lower()


def test_cli_with_a_retired_model_fails_fast_naming_the_setting(
    fake_gemini: FakeGemini, speech_reel: tuple[Path, list[RowPlan]], tmp_path: Path
) -> None:
    path, _ = speech_reel
    proc = _cli(fake_gemini, path, tmp_path, GEMINI_MODEL="gemini-2.5-flash")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("error: Gemini model 'gemini-2.5-flash' is not available")
    assert "GEMINI_MODEL" in line and "gemini-3.5-flash-lite" in line
    # found by the start-up check, before any measuring or generating; a 404 is not retried
    assert fake_gemini.generate_calls() == []
    checks = [r for r in fake_gemini.requests if r.method == "GET" and "/models/" in r.path]
    assert len(checks) == 1
    assert not (tmp_path / "data" / "keyframes").exists()  # nothing was measured


def test_cli_with_a_retired_model_and_a_fallback_writes_with_the_fallback(
    fake_gemini: FakeGemini, speech_reel: tuple[Path, list[RowPlan]], tmp_path: Path
) -> None:
    path, rows = speech_reel
    proc = _cli(fake_gemini, path, tmp_path, GEMINI_MODEL="gemini-2.5-flash", AI_FALLBACK="local")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    _assert_complete(result, rows)
    assert result["meta"]["provider"] == "local"


def test_a_partial_answer_completes_with_filled_by_local(
    fake_gemini: FakeGemini, speech_reel: tuple[Path, list[RowPlan]], tmp_path: Path
) -> None:
    path, rows = speech_reel
    fake_gemini.default = Gen(drop=("keys.audio", "script.1", "recommendations.editing"))
    result = analyze_reel(path, make_settings(tmp_path, AI_PROVIDER="gemini"))
    data = json.loads(result.model_dump_json())
    _assert_complete(data, rows)
    assert result.meta.provider == "gemini"
    assert result.meta.filled_by_local == ["keys.audio", "script.1", "recommendations.editing"]
    assert any(w.startswith("ИИ написал не весь ответ (ключ «звук»") for w in result.meta.warnings)
    assert len(fake_gemini.generate_calls()) == 2


def test_prose_twice_fails_clearly_or_falls_back_to_local(
    fake_gemini: FakeGemini, speech_reel: tuple[Path, list[RowPlan]], tmp_path: Path
) -> None:
    path, rows = speech_reel
    fake_gemini.default = Gen(prose=True)
    with pytest.raises(ProviderError, match="Gemini returned no usable answer twice") as err:
        analyze_reel(path, make_settings(tmp_path, AI_PROVIDER="gemini"))
    assert err.value.code == "ai_failed"
    assert describe(err.value) == "ИИ-сервис не смог написать сценарий, попробуйте позже."
    fallback = make_settings(tmp_path, AI_PROVIDER="gemini", AI_FALLBACK="local")
    result = analyze_reel(path, fallback)
    assert result.meta.provider == "local"
    assert [n.code for n in result.meta.notices if n.code == "ai_fallback"] == ["ai_fallback"]
    assert "ИИ не ответил: тексты составлены без ИИ, по измерениям ролика." in (
        result.meta.warnings
    )
    # the measured part survives the AI failure intact
    assert [(r.start, r.end) for r in result.script] == [(r.start, r.end) for r in rows]


def test_service_job_uses_the_same_gemini_path(
    fake_gemini: FakeGemini,
    speech_reel: tuple[Path, list[RowPlan]],
    db_settings: Settings,
    session: Session,
) -> None:
    path, rows = speech_reel
    settings = db_settings.model_copy(
        update={
            "ai_provider": "gemini",
            "google_ai_api_key": SecretStr("test-key-123"),
            "gemini_rpm": 1000,
        }
    )
    storage = LocalStorage.from_settings(settings)
    job = submit_job(session, settings, path, storage=storage, sha256="e" * 64)
    name = job.object_name
    assert name is not None
    assert run_job(job.id, settings, storage=storage).status == "completed"
    session.expire_all()
    row = session.get(Job, job.id)
    assert row is not None and row.state == JobState.completed
    assert row.provider == "gemini" and row.model == "gemini-3.5-flash-lite"
    assert row.result is not None
    _assert_complete(row.result, rows)
    # kept for playback until VIDEO_RETENTION_HOURS are up, then the sweeper deletes it
    assert storage.exists(name) and row.object_name == name and row.video_expires_at


def test_a_webm_uploaded_without_an_extension_reaches_gemini_as_webm(
    fake_gemini: FakeGemini, db_settings: Settings, session: Session, tmp_path: Path
) -> None:
    """The MIME type is sniffed from the content at upload and travels with the job."""
    from reels_scripter.jobs import JobService
    from reels_scripter.jobs.service import Upload

    clip = make_reel(
        tmp_path / "clip", duration=2.0, cuts=(1.0,), container="webm", codec="libvpx-vp9"
    )
    settings = db_settings.model_copy(
        update={"ai_provider": "gemini", "google_ai_api_key": SecretStr("test-key-123")}
    )
    storage = LocalStorage.from_settings(settings)
    job = JobService(session, storage, settings).submit_upload(
        Upload(path=clip, size=clip.stat().st_size, sha256="f" * 64, filename="clip"), None
    )
    assert run_job(job.id, settings, storage=storage).status == "completed"
    videos = [
        p
        for call in fake_gemini.generate_calls()
        for c in call.json["contents"]
        for p in c["parts"]
        if "inlineData" in p or "fileData" in p
    ]
    assert videos
    for part in videos:
        data = part.get("inlineData") or part.get("fileData")
        assert data.get("mimeType", data.get("mime_type")) == "video/webm"


def test_a_fallback_result_is_not_reused_once_gemini_answers(
    fake_gemini: FakeGemini,
    speech_reel: tuple[Path, list[RowPlan]],
    db_settings: Settings,
    session: Session,
) -> None:
    """Issue 18: a result the fallback wrote during an outage is never handed out again for
    the same bytes once the configured provider works; the next upload is analysed by it."""
    from reels_scripter.jobs.models import STAGE_DEDUPLICATED

    path, _ = speech_reel
    settings = db_settings.model_copy(
        update={
            "ai_provider": "gemini",
            "ai_fallback": "local",
            "google_ai_api_key": SecretStr("test-key-123"),
            "gemini_rpm": 1000,
            "gemini_max_retries": 0,
        }
    )
    storage = LocalStorage.from_settings(settings)
    sha = "d" * 64
    fake_gemini.default = Reply(500, google_error(500, "INTERNAL", "outage"))
    during = submit_job(session, settings, path, storage=storage, sha256=sha)
    assert run_job(during.id, settings, storage=storage).status == "completed"
    session.expire_all()
    written = session.get(Job, during.id)
    assert written is not None and written.provider == "local"  # the fallback wrote it

    fake_gemini.default = Gen()  # Gemini is back
    after = submit_job(session, settings, path, storage=storage, sha256=sha)
    assert after.state == JobState.waiting and after.stage != STAGE_DEDUPLICATED
    assert run_job(after.id, settings, storage=storage).status == "completed"
    session.expire_all()
    fresh = session.get(Job, after.id)
    assert fresh is not None and fresh.provider == "gemini"
    # and from now on the same bytes are answered from Gemini's result
    again = submit_job(session, settings, path, storage=storage, sha256=sha)
    assert again.state == JobState.completed and again.stage == STAGE_DEDUPLICATED
    assert again.provider == "gemini" and again.result == fresh.result
