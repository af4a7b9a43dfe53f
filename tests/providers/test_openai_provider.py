"""The OpenAI-compatible provider through the real `openai` SDK against a schema-driven fake."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from reels_scripter.contract import KEY_CATEGORIES, REQUIRED_RECOMMENDATION_KINDS
from reels_scripter.providers.base import (
    ModelNotFoundError,
    ProviderBlockedError,
    ProviderConfigError,
    ProviderError,
)
from reels_scripter.providers.openai_compat.provider import OpenAIProvider
from reels_scripter.providers.registry import get_provider
from support.fake_ai import PROXY_502, FakeOpenAI, Gen, Reply, strict_schema_problem
from support.provider_data import FAKE_JPEG, one_request_usage, seed_shaped_answer


def openai_settings(settings: Any, server: FakeOpenAI, **kw: Any) -> Any:
    return settings(OPENAI_BASE_URL=server.url + "v1", **kw)


def test_sends_keyframes_facts_and_the_strict_schema(
    fake_openai: FakeOpenAI, settings, write_request
) -> None:
    request = write_request()
    provider = get_provider("openai", openai_settings(settings, fake_openai))
    assert isinstance(provider, OpenAIProvider)

    creative = provider.write(request)

    [call] = fake_openai.chat_calls()
    assert call.headers["authorization"] == "Bearer sk-test"
    body = call.json
    assert body["model"] == "gpt-4o-mini"
    assert "temperature" not in body  # the server's default unless configured
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["strict"] is True
    schema = fmt["json_schema"]["schema"]
    # Strict mode: every property required, no extras, on every object (the fake checks too).
    assert strict_schema_problem(schema) is None
    assert schema["properties"]["keys"]["required"] == list(KEY_CATEGORIES)
    assert schema["properties"]["script"]["required"] == ["1", "2", "3"]
    recs = schema["properties"]["recommendations"]
    assert recs["required"] == [*REQUIRED_RECOMMENDATION_KINDS, "other"]
    assert schema["properties"]["transcription"]["type"] == ["string", "null"]
    system, user = body["messages"]
    assert system["role"] == "system" and "never instructions" in system["content"]
    images = [p["image_url"]["url"] for p in user["content"] if p["type"] == "image_url"]
    assert len(images) == 3
    prefix = "data:image/jpeg;base64,"
    assert all(u.startswith(prefix) for u in images)
    assert base64.b64decode(images[1][len(prefix) :]) == FAKE_JPEG + bytes([1])
    text = user["content"][0]["text"]
    assert "First, light your face from a window." in text and '"script_rows"' in text

    assert [k.category for k in creative.keys] == list(KEY_CATEGORIES)
    assert [r.id for r in creative.rows] == [1, 2, 3]
    assert creative.transcription is None  # null: the measured transcript stands
    assert creative.model == "gpt-4o-mini"
    assert creative.filled_by_local == []
    assert creative.usage is not None
    # gpt-4o-mini: $0.15 in, $0.60 out per million tokens
    assert creative.usage.model_dump() == one_request_usage(900, 300, 0.15, 0.60)


def test_image_count_is_capped_and_temperature_sent_when_configured(
    fake_openai: FakeOpenAI, settings, write_request
) -> None:
    OpenAIProvider.from_settings(
        openai_settings(settings, fake_openai, OPENAI_MAX_IMAGES=2, OPENAI_TEMPERATURE=0.3)
    ).write(write_request())
    [call] = fake_openai.chat_calls()
    user = call.json["messages"][1]
    assert sum(p["type"] == "image_url" for p in user["content"]) == 2
    assert call.json["temperature"] == 0.3


def test_partial_answer_gets_one_follow_up_then_local_fill(
    fake_openai: FakeOpenAI, settings, write_request
) -> None:
    fake_openai.default = Gen(drop=("recommendations.editing", "script.1"))
    creative = OpenAIProvider.from_settings(openai_settings(settings, fake_openai)).write(
        write_request()
    )
    first, second = fake_openai.chat_calls()
    asked = second.json["response_format"]["json_schema"]["schema"]
    assert strict_schema_problem(asked) is None
    assert list(asked["properties"]) == ["script", "recommendations"]
    assert asked["properties"]["script"]["required"] == ["1"]
    follow_up = second.json["messages"][1]["content"][-1]["text"]
    assert "recommendations.editing (missing)" in follow_up
    assert creative.filled_by_local == ["script.1", "recommendations.editing"]
    assert [r.kind for r in creative.recommendations][:4] == list(REQUIRED_RECOMMENDATION_KINDS)
    assert first.json["messages"][1]["content"][0] == second.json["messages"][1]["content"][0]


@pytest.mark.parametrize(
    "gen",
    [Gen(content_null=True), Gen(no_candidates=True), Gen(empty_text=True), Gen(prose=True)],
    ids=["content-null", "empty-choices", "empty-content", "prose"],
)
def test_unusable_answer_then_good_one_completes(
    fake_openai: FakeOpenAI, settings, write_request, gen: Gen
) -> None:
    fake_openai.script = [gen]
    creative = OpenAIProvider.from_settings(openai_settings(settings, fake_openai)).write(
        write_request()
    )
    assert len(fake_openai.chat_calls()) == 2
    assert creative.filled_by_local == []


def test_unusable_twice_is_a_clear_failure(
    fake_openai: FakeOpenAI, settings, write_request
) -> None:
    fake_openai.default = Gen(content_null=True)
    with pytest.raises(ProviderError, match=r"no usable answer twice.*content null") as err:
        OpenAIProvider.from_settings(openai_settings(settings, fake_openai)).write(write_request())
    assert err.value.code == "ai_failed" and err.value.transient


def test_missing_usage_is_counted_as_a_request_with_unknown_cost(
    fake_openai: FakeOpenAI, settings, write_request
) -> None:
    fake_openai.default = Gen(no_usage=True)
    creative = OpenAIProvider.from_settings(openai_settings(settings, fake_openai)).write(
        write_request()
    )
    assert creative.usage is not None
    assert (creative.usage.requests, creative.usage.total_tokens) == (1, 0)
    assert creative.usage.cost_usd is None


def test_truncated_answer_is_completed(fake_openai: FakeOpenAI, settings, write_request) -> None:
    fake_openai.script = [Gen(truncate=0.7)]
    creative = OpenAIProvider.from_settings(openai_settings(settings, fake_openai)).write(
        write_request()
    )
    _, second = fake_openai.chat_calls()
    assert "cut off" in second.json["messages"][1]["content"][-1]["text"]
    assert creative.filled_by_local == []


@pytest.mark.parametrize(
    "gen",
    [Gen(refusal="I can't help with that."), Gen(finish="content_filter")],
    ids=["refusal", "content-filter"],
)
def test_refusals_fail_at_once(fake_openai: FakeOpenAI, settings, write_request, gen: Gen) -> None:
    fake_openai.default = gen
    with pytest.raises(ProviderBlockedError) as err:
        OpenAIProvider.from_settings(openai_settings(settings, fake_openai)).write(write_request())
    assert err.value.code == "ai_blocked"
    assert len(fake_openai.chat_calls()) == 1


def test_429_is_retried_after_the_servers_delay(
    fake_openai: FakeOpenAI, settings, write_request
) -> None:
    fake_openai.script = [
        Reply(429, {"error": {"message": "Rate limit reached"}}, {"retry-after-ms": "400"})
    ]
    creative = OpenAIProvider.from_settings(openai_settings(settings, fake_openai)).write(
        write_request()
    )
    first, second = fake_openai.chat_calls()
    assert second.at - first.at >= 0.38
    assert len(creative.rows) == 3


@pytest.mark.parametrize(
    "failure", [PROXY_502, Reply(reset=True), Reply(delay=3.0)], ids=["502", "reset", "timeout"]
)
def test_transport_failures_are_retried(
    fake_openai: FakeOpenAI, settings, write_request, failure: Reply
) -> None:
    fake_openai.script = [failure]
    OpenAIProvider.from_settings(
        openai_settings(settings, fake_openai, OPENAI_TIMEOUT_SEC=0.5)
    ).write(write_request())
    assert len(fake_openai.chat_calls()) == 2


def test_persistent_503_fails_in_bounded_time(
    fake_openai: FakeOpenAI, settings, write_request
) -> None:
    fake_openai.default = Reply(503, {"error": {"message": "overloaded"}})
    started = time.monotonic()
    with pytest.raises(ProviderError, match="gave up after 3 attempts") as err:
        OpenAIProvider.from_settings(
            openai_settings(settings, fake_openai, OPENAI_MAX_RETRIES=2)
        ).write(write_request())
    assert err.value.transient
    assert len(fake_openai.chat_calls()) == 3
    assert time.monotonic() - started < 3


def test_falls_back_to_json_object_when_json_schema_is_refused(
    fake_openai: FakeOpenAI, settings, write_request
) -> None:
    fake_openai.reject_json_schema = True
    creative = OpenAIProvider.from_settings(openai_settings(settings, fake_openai)).write(
        write_request()
    )
    refused, accepted = fake_openai.chat_calls()
    assert refused.json["response_format"]["type"] == "json_schema"
    assert accepted.json["response_format"] == {"type": "json_object"}
    texts = [p["text"] for p in accepted.json["messages"][1]["content"] if p["type"] == "text"]
    [schema] = [t for t in texts if t.startswith("Response JSON schema:")]
    assert '"script"' in schema
    assert creative.filled_by_local == []


def test_a_seed_shaped_answer_from_a_server_ignoring_the_schema_is_read(
    fake_openai: FakeOpenAI, settings, write_request
) -> None:
    request = write_request()
    text = json.dumps(seed_shaped_answer(request.rows), ensure_ascii=False)
    body = {
        "id": "x",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-mini",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
    }
    fake_openai.script = [Reply(200, body)]
    creative = OpenAIProvider.from_settings(openai_settings(settings, fake_openai)).write(request)
    assert len(fake_openai.chat_calls()) == 1
    assert creative.filled_by_local == []
    assert [r.text for r in creative.rows] == ["Текст"] * 3
    assert creative.hook_type is not None and creative.hook_type.type == "open_question"


def test_unknown_model_is_a_clear_error(fake_openai: FakeOpenAI, settings, write_request) -> None:
    OpenAIProvider.from_settings(openai_settings(settings, fake_openai)).check()
    with pytest.raises(ModelNotFoundError, match=r"'llama9'.*OPENAI_MODEL"):
        OpenAIProvider.from_settings(
            openai_settings(settings, fake_openai, OPENAI_MODEL="llama9")
        ).check()
    with pytest.raises(ModelNotFoundError, match=r"'llama9'.*OPENAI_MODEL"):
        OpenAIProvider.from_settings(
            openai_settings(settings, fake_openai, OPENAI_MODEL="llama9")
        ).write(write_request())
    assert len(fake_openai.chat_calls()) == 1  # not retried
    with pytest.raises(ProviderConfigError, match="OPENAI_API_KEY"):
        OpenAIProvider.from_settings(settings(OPENAI_API_KEY=None, OPENAI_BASE_URL=None)).check()


def test_local_server_needs_no_key(fake_openai: FakeOpenAI, settings, write_request) -> None:
    OpenAIProvider.from_settings(openai_settings(settings, fake_openai, OPENAI_API_KEY=None)).write(
        write_request()
    )
    [call] = fake_openai.chat_calls()
    assert call.headers["authorization"] == "Bearer not-needed"
