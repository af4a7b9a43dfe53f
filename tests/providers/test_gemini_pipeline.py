"""Gemini through the whole product: the CLI process, the pipeline's fallback, a service job.

The fake server answers with text for the row ids the pipeline plans from the measured reel;
the result's times must still be the measured ones, whatever the model says.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy.orm import Session

from reels_scripter.analysis import analyze
from reels_scripter.config import Settings
from reels_scripter.jobs import Job, JobState
from reels_scripter.jobs.runner import run_job
from reels_scripter.pipeline import analysis_options, analyze_reel
from reels_scripter.providers.base import RowPlan
from reels_scripter.rows import plan_rows
from reels_scripter.storage.local import LocalStorage
from support.factories import submit_job
from support.fake_ai import FakeGemini, Reply, gemini_text, google_error
from support.provider_data import answer_text
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


def _assert_measured_times(result: dict, rows: list[RowPlan]) -> None:
    assert [(r["start"], r["end"]) for r in result["script"]] == [(r.start, r.end) for r in rows]
    cuts = [round(s["start"], 2) for s in result["timeline"]["scenes"]]
    assert cuts[1:] == pytest.approx(list(CUTS), abs=0.25)
    words = {
        round(w["start"], 2) for seg in result["timeline"]["speech"] for w in seg["words"] or []
    }
    for row in result["script"]:  # every row starts on a measured cut or speech pause
        assert round(row["start"], 2) in set(cuts) | words


def test_cli_with_gemini(
    fake_gemini: FakeGemini, speech_reel: tuple[Path, list[RowPlan]], tmp_path: Path
) -> None:
    path, rows = speech_reel
    fake_gemini.generate_replies = [Reply(200, gemini_text(answer_text(rows)))]
    env = {
        **os.environ,
        "AI_PROVIDER": "gemini",
        "GOOGLE_AI_API_KEY": "test-key-123",
        "GOOGLE_GEMINI_BASE_URL": fake_gemini.url,
        "GEMINI_RPM": "1000",
        "DATA_DIR": str(tmp_path / "data"),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "reels_scripter.cli", "analyze", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["meta"]["provider"] == "gemini"
    assert result["meta"]["model"] == "gemini-2.5-flash"
    assert result["meta"]["usage"]["total_tokens"] == 1200
    assert {r["text"] for r in result["script"]} == {"Текст"}
    _assert_measured_times(result, rows)
    # the small reel went inline, exactly once
    (call,) = fake_gemini.generate_calls()
    parts = call.json["contents"][0]["parts"]
    assert any("inlineData" in p for p in parts)
    assert "scrolling" in json.dumps(call.json, ensure_ascii=False).lower()


def test_failing_gemini_falls_back_to_local_when_asked(
    fake_gemini: FakeGemini, speech_reel: tuple[Path, list[RowPlan]], tmp_path: Path
) -> None:
    path, rows = speech_reel
    fake_gemini.generate_replies = [Reply(500, google_error(500, "INTERNAL", "boom"))]
    failing = make_settings(tmp_path, AI_PROVIDER="gemini")
    with pytest.raises(Exception, match="Gemini"):
        analyze_reel(path, failing)
    fallback = make_settings(tmp_path, AI_PROVIDER="gemini", AI_FALLBACK="local")
    result = analyze_reel(path, fallback)
    assert result.meta.provider == "local"
    assert [n.code for n in result.meta.notices if n.code == "ai_fallback"] == ["ai_fallback"]
    assert any("gemini" in w and "локально" in w for w in result.meta.warnings)
    # the measured part survives the AI failure intact
    assert [(r.start, r.end) for r in result.script] == [(r.start, r.end) for r in rows]


def test_service_job_uses_the_same_gemini_path(
    fake_gemini: FakeGemini,
    speech_reel: tuple[Path, list[RowPlan]],
    db_settings: Settings,
    session: Session,
) -> None:
    path, rows = speech_reel
    fake_gemini.generate_replies = [Reply(200, gemini_text(answer_text(rows)))]
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
    assert row.provider == "gemini" and row.model == "gemini-2.5-flash"
    assert row.result is not None
    _assert_measured_times(row.result, rows)
    assert not storage.exists(name)
