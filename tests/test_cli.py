"""The CLI end to end, as a user runs it: real files, a real process, stdout/stderr/exit code."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from reels_scripter.contract import result_json_schema
from support.reelgen import make_audio_only

SAMPLE = Path(__file__).parents[1] / "src" / "reels_scripter" / "samples" / "sample_reel.mp4"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")


def run_cli(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reels_scripter.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "DATA_DIR": str(data_dir), "AI_PROVIDER": "local", **env},
        timeout=240,
    )


def _assert_clean_failure(proc: subprocess.CompletedProcess[str], code: int, needle: str) -> None:
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert needle.lower() in lines[0].lower()
    assert proc.stdout == ""


@pytest.fixture(scope="module")
def sample_result(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data_dir = tmp_path_factory.mktemp("data")
    proc = run_cli("analyze", str(SAMPLE), data_dir=data_dir)
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def test_analyze_prints_a_valid_result(sample_result: dict[str, Any]) -> None:
    jsonschema.validate(sample_result, result_json_schema())
    assert sample_result["meta"]["provider"] == "local"
    assert len(sample_result["keys"]) == 5
    assert "scrolling" in sample_result["original"]["transcription"].lower()


def test_script_rows_start_on_measured_boundaries(sample_result: dict[str, Any]) -> None:
    scenes = sample_result["timeline"]["scenes"]
    cuts = {round(s["start"], 2) for s in scenes}
    words = {
        round(w["start"], 2)
        for seg in sample_result["timeline"]["speech"]
        for w in (seg.get("words") or [])
    }
    rows = sample_result["script"]
    assert rows[0]["start"] == 0.0
    assert rows[-1]["end"] == pytest.approx(sample_result["timeline"]["duration"], abs=0.05)
    for a, b in itertools.pairwise(rows):
        assert a["end"] == b["start"] and a["start"] < a["end"]
    for row in rows:
        assert round(row["start"], 2) in cuts | words


def test_keyframes_are_written(sample_result: dict[str, Any]) -> None:
    for scene in sample_result["timeline"]["scenes"]:
        path = Path(scene["keyframe"])
        assert path.read_bytes()[:2] == b"\xff\xd8"  # JPEG


def test_markdown_to_file(tmp_path: Path) -> None:
    out = tmp_path / "script.md"
    proc = run_cli("analyze", "--sample", "--format", "md", "-o", str(out), data_dir=tmp_path)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text(encoding="utf-8")
    assert "| Время | Визуал | Текст за кадром | Заметка |" in text
    assert "## Рекомендации" in text


@pytest.mark.parametrize(
    ("name", "content", "needle"),
    [
        ("empty.mp4", b"", "empty"),
        ("notes.mp4", b"just some text, not a video\n" * 10, "not a video"),
        ("image.mp4", PNG + b"\0" * 64, "not a video"),
    ],
)
def test_bad_files_fail_with_one_line(
    tmp_path: Path, name: str, content: bytes, needle: str
) -> None:
    bad = tmp_path / name
    bad.write_bytes(content)
    _assert_clean_failure(run_cli("analyze", str(bad), data_dir=tmp_path), 2, needle)


def test_audio_only_fails_with_one_line(tmp_path: Path) -> None:
    audio = make_audio_only(tmp_path / "voice.mp4")
    _assert_clean_failure(run_cli("analyze", str(audio), data_dir=tmp_path), 2, "audio")


def test_too_long_fails_with_one_line(tmp_path: Path) -> None:
    proc = run_cli("analyze", str(SAMPLE), data_dir=tmp_path, MAX_VIDEO_DURATION_SEC="5")
    _assert_clean_failure(proc, 2, "long")


def test_missing_file(tmp_path: Path) -> None:
    proc = run_cli("analyze", str(tmp_path / "nope.mp4"), data_dir=tmp_path)
    _assert_clean_failure(proc, 2, "no such file")


def test_unknown_provider(tmp_path: Path) -> None:
    proc = run_cli("analyze", str(SAMPLE), "--provider", "nope", data_dir=tmp_path)
    _assert_clean_failure(proc, 1, "unknown ai provider")


def test_analyze_a_link(tmp_path: Path) -> None:
    from support.video_site import VideoSite

    with VideoSite() as site:
        url = site.add("sample.mp4", SAMPLE)
        proc = run_cli("analyze", url, "-q", data_dir=tmp_path, IMPORT_ALLOW_PRIVATE="true")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["source"]["url"] == url and result["source"]["platform"] == "web"
    assert result["script"]
    # the download lived in a temporary folder only
    assert not list(tmp_path.glob("**/video.mp4"))


def test_a_refused_link_fails_with_one_line(tmp_path: Path) -> None:
    proc = run_cli("analyze", "http://127.0.0.1:9/reel.mp4", data_dir=tmp_path)
    _assert_clean_failure(proc, 2, "link_forbidden")
