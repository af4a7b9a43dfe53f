"""The OpenAI-compatible provider through the real `openai` SDK against a fake server."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest

from reels_scripter.providers.base import ProviderConfigError, ProviderError
from reels_scripter.providers.openai_compat import OpenAIProvider
from reels_scripter.providers.registry import get_provider
from support.fake_ai import FakeOpenAI, Reply, openai_text
from support.provider_data import FAKE_JPEG, answer_text, valid_answer


def openai_settings(settings: Any, server: FakeOpenAI, **kw: Any) -> Any:
    return settings(OPENAI_BASE_URL=server.url + "v1", **kw)


def test_sends_keyframes_facts_and_schema_and_parses_the_answer(
    fake_openai: FakeOpenAI, settings, write_request
) -> None:
    request = write_request()
    fake_openai.replies = [Reply(200, openai_text(answer_text(request.rows)))]
    provider = get_provider("openai", openai_settings(settings, fake_openai))
    assert isinstance(provider, OpenAIProvider)

    creative = provider.write(request)

    [call] = fake_openai.chat_calls()
    assert call.headers["authorization"] == "Bearer sk-test"
    body = call.json
    assert body["model"] == "gpt-4o-mini"
    assert body["response_format"]["type"] == "json_schema"
    schema = body["response_format"]["json_schema"]["schema"]
    assert {"keys", "rows", "recommendations"} <= set(schema["properties"])
    system, user = body["messages"]
    assert system["role"] == "system" and "never instructions" in system["content"]
    images = [p["image_url"]["url"] for p in user["content"] if p["type"] == "image_url"]
    assert len(images) == 3
    prefix = "data:image/jpeg;base64,"
    assert all(u.startswith(prefix) for u in images)
    assert base64.b64decode(images[1][len(prefix) :]) == FAKE_JPEG + bytes([1])
    text = user["content"][0]["text"]
    assert "First, light your face from a window." in text and '"script_rows"' in text

    assert [r.id for r in creative.rows] == [1, 2, 3]
    assert creative.model == "gpt-4o-mini"
    assert creative.usage == {
        "prompt_tokens": 900,
        "output_tokens": 300,
        "total_tokens": 1200,
        "requests": 1,
    }


def test_image_count_is_capped(fake_openai: FakeOpenAI, settings, write_request) -> None:
    request = write_request()
    fake_openai.replies = [Reply(200, openai_text(answer_text(request.rows)))]
    OpenAIProvider(openai_settings(settings, fake_openai, OPENAI_MAX_IMAGES=2)).write(request)
    [call] = fake_openai.chat_calls()
    user = call.json["messages"][1]
    assert sum(p["type"] == "image_url" for p in user["content"]) == 2


def test_429_is_retried_after_the_servers_delay(
    fake_openai: FakeOpenAI, settings, write_request
) -> None:
    request = write_request()
    fake_openai.replies = [
        Reply(429, {"error": {"message": "Rate limit reached"}}, {"retry-after-ms": "400"}),
        Reply(200, openai_text(answer_text(request.rows))),
    ]
    creative = OpenAIProvider(openai_settings(settings, fake_openai)).write(request)
    first, second = fake_openai.chat_calls()
    assert second.at - first.at >= 0.38
    assert len(creative.rows) == 3


def test_persistent_503_fails_in_bounded_time(
    fake_openai: FakeOpenAI, settings, write_request
) -> None:
    fake_openai.replies = [Reply(503, {"error": {"message": "overloaded"}})]
    started = time.monotonic()
    with pytest.raises(ProviderError, match="gave up after 3 attempts") as err:
        OpenAIProvider(openai_settings(settings, fake_openai, OPENAI_MAX_RETRIES=2)).write(
            write_request()
        )
    assert err.value.transient
    assert len(fake_openai.chat_calls()) == 3
    assert time.monotonic() - started < 3


def test_falls_back_to_json_object_when_json_schema_is_refused(
    fake_openai: FakeOpenAI, settings, write_request
) -> None:
    request = write_request()
    fake_openai.reject_json_schema = True
    fake_openai.replies = [Reply(200, openai_text(answer_text(request.rows)))]
    OpenAIProvider(openai_settings(settings, fake_openai)).write(request)
    refused, accepted = fake_openai.chat_calls()
    assert refused.json["response_format"]["type"] == "json_schema"
    assert accepted.json["response_format"] == {"type": "json_object"}
    texts = [p["text"] for p in accepted.json["messages"][1]["content"] if p["type"] == "text"]
    assert any(t.startswith("Response JSON schema:") for t in texts)


def test_schema_violation_gets_a_corrective_retry(
    fake_openai: FakeOpenAI, settings, write_request
) -> None:
    request = write_request()
    bad = valid_answer(request.rows)
    bad["recommendations"] = bad["recommendations"][:3]  # no editing advice
    fake_openai.replies = [
        Reply(200, openai_text(json.dumps(bad, ensure_ascii=False))),
        Reply(200, openai_text(answer_text(request.rows))),
    ]
    creative = OpenAIProvider(openai_settings(settings, fake_openai)).write(request)
    _, second = fake_openai.chat_calls()
    roles = [m["role"] for m in second.json["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    assert "missing kinds ['editing']" in second.json["messages"][3]["content"]
    assert not any(p["type"] == "image_url" for p in second.json["messages"][1]["content"])
    assert creative.usage is not None and creative.usage["requests"] == 2


def test_content_filter_is_a_clear_error(fake_openai: FakeOpenAI, settings, write_request) -> None:
    fake_openai.replies = [Reply(200, openai_text("", finish="content_filter"))]
    with pytest.raises(ProviderError, match="safety"):
        OpenAIProvider(openai_settings(settings, fake_openai)).write(write_request())


def test_check_unknown_model_and_missing_config(fake_openai: FakeOpenAI, settings) -> None:
    OpenAIProvider(openai_settings(settings, fake_openai)).check()
    with pytest.raises(ProviderConfigError, match=r"'llama9'.*OPENAI_MODEL"):
        OpenAIProvider(openai_settings(settings, fake_openai, OPENAI_MODEL="llama9")).check()
    with pytest.raises(ProviderConfigError, match="OPENAI_API_KEY"):
        OpenAIProvider(settings(OPENAI_API_KEY=None, OPENAI_BASE_URL=None)).check()


def test_local_server_needs_no_key(fake_openai: FakeOpenAI, settings, write_request) -> None:
    request = write_request()
    fake_openai.replies = [Reply(200, openai_text(answer_text(request.rows)))]
    OpenAIProvider(openai_settings(settings, fake_openai, OPENAI_API_KEY=None)).write(request)
    [call] = fake_openai.chat_calls()
    assert call.headers["authorization"] == "Bearer not-needed"
