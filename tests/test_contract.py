"""The result contract: the seed's shape is kept, additions validate against the schema."""

from __future__ import annotations

import json
import subprocess
import sys

import jsonschema

from reels_scripter.compose import compose_result
from reels_scripter.config import Settings
from reels_scripter.contract import AnalysisResult, result_json_schema
from reels_scripter.providers.base import WriteRequest
from reels_scripter.providers.local import LocalProvider
from reels_scripter.rows import plan_rows
from support.factories import measurements, segment

# The JSON shape the seed's front ends read (server.js prompt): must never change.
SEED_SHAPE = {
    "original": ["transcription", "translation"],
    "keys": ["title", "description"],
    "script": ["time", "visual", "text", "note"],
    "recommendations": ["category", "text"],
}


def _result() -> AnalysisResult:
    m = measurements(cuts=[2.0, 5.0], duration=8.0, segments=[segment("hi all watch this", 0.3)])
    rows = plan_rows(m)
    creative = LocalProvider.from_settings(Settings()).write(
        WriteRequest(measurements=m, rows=rows, video_path="x.mp4")
    )
    return compose_result(m, rows, creative, provider="local", target_language="ru")


def test_result_validates_against_its_json_schema() -> None:
    data = json.loads(_result().model_dump_json())
    jsonschema.validate(data, result_json_schema())


def test_seed_fields_are_present_and_typed_as_the_seed_had_them() -> None:
    data = json.loads(_result().model_dump_json())
    assert isinstance(data["original"]["transcription"], str)
    assert isinstance(data["original"]["translation"], str)
    for section, fields in SEED_SHAPE.items():
        items = [data[section]] if section == "original" else data[section]
        assert items, section
        for item in items:
            for name in fields:
                assert isinstance(item[name], str), (section, name)


def test_schema_requires_the_seed_fields() -> None:
    schema = result_json_schema()
    defs = schema["$defs"]
    assert set(schema["required"]) >= set(SEED_SHAPE)
    assert {"transcription", "translation"} <= set(defs["Original"]["required"])
    assert {"title", "description"} <= set(defs["Key"]["required"])
    assert {"time", "visual", "text", "note"} <= set(defs["ScriptRow"]["required"])
    assert {"category", "text"} <= set(defs["Recommendation"]["required"])


def test_a_result_missing_a_seed_field_fails_the_schema() -> None:
    data = json.loads(_result().model_dump_json())
    del data["script"][0]["note"]
    try:
        jsonschema.validate(data, result_json_schema())
    except jsonschema.ValidationError as exc:
        assert "note" in exc.message
    else:
        raise AssertionError("schema accepted a script row without its note")


def test_schema_command_prints_the_schema() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "reels_scripter.cli", "schema"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert json.loads(out) == result_json_schema()
