"""Lines that do not fit their rows, through the real SDKs against the schema-driven fakes.

The fakes answer schema-legal Russian lines longer than each row's stated syllable budget
(`Gen.over_long`). The provider asks once more for exactly those rows; whatever still does not
fit stays, marked `too_long`, with a warning naming the rows by their times.
"""

from __future__ import annotations

import re
from typing import Any

from reels_scripter.analysis.models import OnscreenText
from reels_scripter.compose import compose_result
from reels_scripter.contract import AnalysisResult
from reels_scripter.providers.base import Creative, WriteRequest
from reels_scripter.providers.gemini.provider import GeminiProvider
from reels_scripter.providers.openai_compat.provider import OpenAIProvider
from support.fake_ai import FakeGemini, FakeOpenAI, Gen


def _compose(request: WriteRequest, creative: Creative, provider: str) -> AnalysisResult:
    return compose_result(
        request.measurements,
        request.rows,
        creative,
        provider=provider,
        target_language="ru",
    )


def _gemini_schema(call: Any) -> dict[str, Any]:
    schema: dict[str, Any] = call.json["generationConfig"]["responseJsonSchema"]
    return schema


def _gemini_text(call: Any) -> str:
    return "\n".join(p["text"] for c in call.json["contents"] for p in c["parts"] if "text" in p)


def test_gemini_is_told_each_rows_budget(fake_gemini: FakeGemini, settings, write_request) -> None:
    GeminiProvider.from_settings(settings()).write(write_request())
    [call] = fake_gemini.generate_calls()
    rows = _gemini_schema(call)["properties"]["script"]["properties"]
    # no words timed in these measurements: the calm default of 4 syllables a second, 90%
    assert [rows[i]["description"] for i in ("1", "2", "3")] == [
        "Row 1, 0.0-2.5 s; text at most 9 syllables.",
        "Row 2, 2.5-6.0 s; text at most 12 syllables.",
        "Row 3, 6.0-10.0 s; text at most 14 syllables.",
    ]
    prompt = _gemini_text(call)
    assert '"max_syllables": 9' in prompt and "voice_over_pace" in prompt
    assert "shot size" in prompt and "what changes at the cut" in prompt


def test_gemini_over_long_rows_get_one_shortening_follow_up(
    fake_gemini: FakeGemini, settings, write_request
) -> None:
    fake_gemini.script = [Gen(over_long=2.0, over_long_rows=("2", "3"))]  # then short lines
    request = write_request()
    creative = GeminiProvider.from_settings(settings()).write(request)

    _, second = fake_gemini.generate_calls()
    asked = _gemini_schema(second)
    assert list(asked["properties"]) == ["script"]  # only the long rows, nothing else
    assert asked["properties"]["script"]["required"] == ["2", "3"]
    follow_up = _gemini_text(second)
    assert "too long to say" in follow_up
    listed = follow_up.split("too long to say")[1].split("<")[0]
    assert re.search(r"script\.2: \d+ syllables; at most 12 fit in 3\.5 s", listed), listed
    assert re.search(r"script\.3: \d+ syllables; at most 14 fit in 4\.0 s", listed), listed
    assert "script.1" not in listed

    result = _compose(request, creative, "gemini")
    assert all(row.fit is not None for row in result.script)
    assert [row.fit.status for row in result.script if row.fit] == ["ok", "ok", "ok"]
    assert not any(n.code == "script_rows_too_long" for n in result.meta.notices)
    assert creative.filled_by_local == []


def test_gemini_lines_still_too_long_stay_marked_with_a_warning(
    fake_gemini: FakeGemini, settings, write_request
) -> None:
    fake_gemini.script = [Gen(over_long=2.0), Gen(over_long=1.5)]
    request = write_request()
    creative = GeminiProvider.from_settings(settings()).write(request)

    assert len(fake_gemini.generate_calls()) == 2  # one follow-up, never a third request
    result = _compose(request, creative, "gemini")
    fits = [row.fit for row in result.script]
    assert all(f is not None and f.status == "too_long" for f in fits)
    # the shorter of the two answers is kept: 1.5x the budget, not 2x
    assert [f.syllables for f in fits if f] == [14, 19, 22]
    warning = next(w for w in result.meta.warnings if "не укладываются" in w)
    assert "0–2,5\u00a0с, 2,5–6\u00a0с, 6–10\u00a0с" in warning
    assert creative.filled_by_local == []  # kept, not replaced by the local provider


def test_gemini_missing_pieces_and_long_rows_share_the_one_follow_up(
    fake_gemini: FakeGemini, settings, write_request
) -> None:
    fake_gemini.script = [Gen(over_long=2.0, over_long_rows=("1",), drop=("keys.audio",))]
    creative = GeminiProvider.from_settings(settings()).write(write_request())
    _, second = fake_gemini.generate_calls()
    asked = _gemini_schema(second)["properties"]
    assert list(asked) == ["keys", "script"]
    assert asked["keys"]["required"] == ["audio"] and asked["script"]["required"] == ["1"]
    assert "keys.audio (missing)" in _gemini_text(second)
    assert creative.filled_by_local == []


def test_openai_over_long_rows_get_one_shortening_follow_up(
    fake_openai: FakeOpenAI, settings, write_request
) -> None:
    fake_openai.script = [Gen(over_long=2.0, over_long_rows=("3",))]
    request = write_request()
    creative = OpenAIProvider.from_settings(settings(OPENAI_BASE_URL=fake_openai.url + "v1")).write(
        request
    )

    _, second = fake_openai.chat_calls()
    asked = second.json["response_format"]["json_schema"]["schema"]
    assert list(asked["properties"]) == ["script"]
    assert asked["properties"]["script"]["required"] == ["3"]
    assert "too long to say" in second.json["messages"][1]["content"][-1]["text"]
    result = _compose(request, creative, "openai")
    assert all(row.fit is not None and row.fit.status != "too_long" for row in result.script)


def test_openai_still_too_long_names_the_rows(
    fake_openai: FakeOpenAI, settings, write_request
) -> None:
    fake_openai.default = Gen(over_long=2.0, over_long_rows=("3",))
    request = write_request()
    creative = OpenAIProvider.from_settings(settings(OPENAI_BASE_URL=fake_openai.url + "v1")).write(
        request
    )
    assert len(fake_openai.chat_calls()) == 2
    result = _compose(request, creative, "openai")
    assert [r.fit.status for r in result.script if r.fit][2] == "too_long"
    assert any("6–10\u00a0с" in w and "не укладываются" in w for w in result.meta.warnings)


def test_gemini_adapts_the_caption_of_a_row_that_has_one(
    fake_gemini: FakeGemini, settings, write_request
) -> None:
    request = write_request()
    caption = OnscreenText(start=2.5, end=6.0, text="3 TRICKS")
    request.measurements.onscreen_text = [caption]
    request.rows[1].captions = [caption]
    creative = GeminiProvider.from_settings(settings()).write(request)

    [call] = fake_gemini.generate_calls()
    rows = _gemini_schema(call)["properties"]["script"]["properties"]
    assert "onscreen" in rows["2"]["required"] and "onscreen" not in rows["1"]["properties"]
    assert '"captions": [\n    "3 TRICKS"\n   ]' in _gemini_text(call)
    result = _compose(request, creative, "gemini")
    first, second, third = (row.onscreen for row in result.script)
    assert first is None and third is None and second is not None
    # the model's adapted caption (the fake writes "ответ N"), over the measured span
    assert second.text.startswith("ответ ") and second.language is None
    assert (second.original, second.start, second.end) == ("3 TRICKS", 2.5, 6.0)
