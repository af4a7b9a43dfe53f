"""Answer parsing/validation and the prompt's data block, without any AI server."""

from __future__ import annotations

import json
import re

import pytest
from reels_scripter.providers.answer import AnswerError, parse_answer, to_creative

from reels_scripter.compose import compose_result
from reels_scripter.providers.prompt import build_prompt
from support.provider_data import INJECTION, answer_text, make_measurements, make_rows, valid_answer


def test_valid_answer_composes_into_the_contract() -> None:
    m = make_measurements()
    rows = make_rows(m)
    answer = parse_answer(answer_text(rows), rows, "ru")
    creative = to_creative(answer, model="m", usage={"total_tokens": 1})
    result = compose_result(m, rows, creative, provider="gemini", target_language="ru")
    assert [(r.start, r.end) for r in result.script] == [(0.0, 2.5), (2.5, 6.0), (6.0, 10.0)]
    assert result.meta.model == "m" and result.meta.usage == {"total_tokens": 1}
    assert result.original.transcription == m.transcript.text  # measured, not the model's


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"rows": "dup"}, "row ids repeated: [1]"),
        ({"rows": "unknown"}, "not in the data block: [99]"),
        ({"keys": "same"}, "missing categories"),
        ({"recommendations": []}, "missing kinds ['voice', 'music', 'avatar', 'editing']"),
        ({"language": "en"}, "must be written in Russian"),
    ],
)
def test_rule_violations_are_reported_for_the_model(change: dict[str, object], reason: str) -> None:
    rows = make_rows(make_measurements())
    data = valid_answer(rows)
    if change.get("rows") == "dup":
        data["rows"].append(dict(data["rows"][0]))
    elif change.get("rows") == "unknown":
        data["rows"].append({"id": 99, "visual": "v", "text": "t", "note": "n"})
    elif change.get("keys") == "same":
        for k in data["keys"]:
            k["category"] = "hook"
    elif "recommendations" in change:
        data["recommendations"] = []
    else:
        for k in data["keys"]:
            k["description"] = "Plain English only."
        for r in data["recommendations"]:
            r["text"] = "English advice."
    with pytest.raises(AnswerError, match=re.escape(reason)):
        parse_answer(json.dumps(data, ensure_ascii=False), rows, "ru")


def test_non_json_and_empty_are_errors() -> None:
    rows = make_rows(make_measurements())
    with pytest.raises(AnswerError, match="empty"):
        parse_answer("  ", rows, "ru")
    with pytest.raises(AnswerError):
        parse_answer("I cannot help with that.", rows, "ru")


def test_model_transcription_only_when_given() -> None:
    rows = make_rows(make_measurements())
    answer = parse_answer(answer_text(rows, transcription="Hello there"), rows, "ru")
    assert to_creative(answer, model=None, usage=None).transcription == "Hello there"


def test_prompt_carries_four_tasks_language_and_fenced_data() -> None:
    m = make_measurements(speech=[(0.1, 2.0, INJECTION + ' "quoted" <b>')])
    rows = make_rows(m)
    prompt = build_prompt(m, rows, "ru")
    for task in (
        "TRANSCRIPTION AND TRANSLATION",
        "KEYS TO SUCCESS",
        "READY SCRIPT",
        "RECOMMENDATIONS",
    ):
        assert task in prompt.user
    assert "Russian" in prompt.system
    block = prompt.user.split(f"<{prompt.tag}>")[1].split(f"</{prompt.tag}>")[0]
    assert "<b>" not in block  # angle brackets escaped inside the data
    facts = json.loads(block)
    assert facts["speech"][0]["text"].startswith(INJECTION)
    assert build_prompt(m, rows, "ru").tag != prompt.tag  # a fresh tag per request
