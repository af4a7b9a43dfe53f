"""Providers own their options; the price table; the local hook type from measured signals."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic_settings import BaseSettings, SettingsConfigDict

from reels_scripter.config import Settings
from reels_scripter.providers import registry
from reels_scripter.providers.base import Creative, Provider, WriteRequest
from reels_scripter.providers.gemini.options import GeminiOptions
from reels_scripter.providers.hook_signals import hook_type_from_measurements
from reels_scripter.providers.openai_compat.options import OpenAIOptions
from reels_scripter.providers.options import ProviderOptions, option
from reels_scripter.providers.registry import result_options
from reels_scripter.providers.usage import Price, UsageMeter, price_for
from support.factories import measurements, segment


def test_the_seeds_env_names_still_set_provider_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "from-env")
    monkeypatch.setenv("GEMINI_MODEL", "gemini-3.8-flash")
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    monkeypatch.setenv("OPENAI_MODEL", "llava")
    gemini = GeminiOptions.from_settings(Settings(_env_file=None))
    openai = OpenAIOptions.from_settings(Settings(_env_file=None))
    key = gemini.google_ai_api_key
    assert key is not None and key.get_secret_value() == "from-env"
    assert (gemini.gemini_model, gemini.gemini_use_vertexai, openai.openai_model) == (
        "gemini-3.8-flash",
        True,
        "llava",
    )


def test_defaults_are_current_and_free_tier_sized(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in GeminiOptions.env_names() + OpenAIOptions.env_names():
        monkeypatch.delenv(name, raising=False)
    g = GeminiOptions.from_settings(Settings(_env_file=None))
    o = OpenAIOptions.from_settings(Settings(_env_file=None))
    assert g.gemini_model == "gemini-3.5-flash-lite"
    assert g.gemini_rpm == 5
    assert g.gemini_temperature is None and o.openai_temperature is None
    assert (g.gemini_thinking_level, g.gemini_media_resolution) == ("low", "low")
    assert (g.gemini_video_fps, g.gemini_hook_fps) == (1.0, 5.0)


def test_result_options_come_from_the_providers_declaration(settings_factory: Any) -> None:
    gemini = result_options("gemini", settings_factory())
    assert gemini["gemini_model"] == "gemini-3.5-flash-lite"
    assert "google_ai_api_key" not in gemini and "gemini_rpm" not in gemini  # no secrets, no pace
    changed = result_options("gemini", settings_factory(GEMINI_MODEL="gemini-3.8-flash"))
    assert changed != gemini
    assert result_options("gemini", settings_factory(GEMINI_RPM=50)) == gemini
    assert result_options("openai", settings_factory())["openai_model"] == "gpt-4o-mini"
    assert result_options("local", settings_factory()) == {}


def test_result_options_import_no_sdk() -> None:
    code = (
        "import sys, json\n"
        "from reels_scripter.config import Settings\n"
        "from reels_scripter.providers.registry import result_options\n"
        "s = Settings(_env_file=None)\n"
        "result_options('gemini', s); result_options('openai', s)\n"
        "sdks = [m for m in sys.modules if m.startswith(('google.genai', 'openai'))]\n"
        "print(json.dumps(sorted(sdks)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


class _EchoOptions(ProviderOptions, BaseSettings):
    # Both bases declare model_config (ConfigDict, SettingsConfigDict): restating
    # ProviderOptions' config as a SettingsConfigDict is a type that fits both.
    model_config = SettingsConfigDict(populate_by_name=True)
    echo_voice: str = option("calm", env="ECHO_VOICE", changes_result=True)
    echo_secret: str = option("", env="ECHO_SECRET")


class _Echo(Provider):
    name = "echo-test"
    Options: ClassVar[type[ProviderOptions]] = _EchoOptions

    def write(self, request: WriteRequest) -> Creative:
        raise NotImplementedError


def test_a_third_party_provider_declares_its_own_options(
    monkeypatch: pytest.MonkeyPatch, settings_factory: Any
) -> None:
    monkeypatch.setitem(registry._registered, "echo-test", _Echo)
    monkeypatch.setenv("ECHO_VOICE", "loud")
    assert result_options("echo-test", settings_factory()) == {"echo_voice": "loud"}


def test_prices_come_from_the_table_by_date_or_from_the_settings() -> None:
    assert price_for("gemini-3.5-flash-lite") == Price(0.30, 2.50)
    assert price_for("models/gemini-3.5-flash-lite") == Price(0.30, 2.50)
    flash = price_for("gemini-3.8-flash", today=date(2026, 12, 31))
    assert flash is not None and flash.input_per_mtok == 0.75
    later = price_for("gemini-3.8-flash", today=date(2027, 1, 1))
    assert later == Price(1.50, 7.50)
    assert price_for("my-finetune") is None
    assert price_for("my-finetune", input_override=1.0, output_override=2.0) == Price(1.0, 2.0)


def test_usage_sums_requests_and_prices_them() -> None:
    meter = UsageMeter()
    meter.add(20_000, 3_000, None)
    meter.add(21_000, 1_000, 22_000)
    usage = meter.usage(Price(0.30, 2.50))
    assert usage is not None
    assert (usage.prompt_tokens, usage.output_tokens, usage.total_tokens) == (41_000, 4_000, 45_000)
    assert usage.cost_usd == pytest.approx(41_000 * 0.30 / 1e6 + 4_000 * 2.50 / 1e6)
    assert UsageMeter().usage(Price(1, 1)) is None


@pytest.mark.parametrize(
    ("speech", "expected"),
    [
        ("Why do your reels get no views? Here is the fix.", "open_question"),
        ("Как снимать рилс без света. Покажу.", "open_question"),
        ("You are filming it wrong and here is why", "contradiction_mythbust"),
        ("If you film reels, stop scrolling now", "direct_callout"),
        ("Вам нужно это увидеть", "direct_callout"),
        ("The secret nobody tells about lighting", "confession_secret"),
        ("Before and after one week of practice", "reveal_transform"),
        ("Here is a sunny morning in the park", "unknown"),
    ],
)
def test_local_hook_type_from_the_first_sentence(speech: str, expected: str) -> None:
    m = measurements(cuts=[3.0], duration=6.0, segments=[segment(speech, 0.3)])
    hook = hook_type_from_measurements(m)
    assert hook.type == expected
    assert hook.payoff_at is None  # never guessed from measurements
    assert hook.evidence


def test_local_hook_type_without_speech() -> None:
    busy = measurements(cuts=[0.8, 1.6, 2.4], duration=6.0)
    assert hook_type_from_measurements(busy).type == "demo_novelty"
    calm = measurements(cuts=[4.0], duration=6.0)
    assert hook_type_from_measurements(calm).type == "unknown"


def test_settings_still_load_from_a_dotenv_file(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("GEMINI_MODEL=gemini-3.8-flash\nGEMINI_THINKING_LEVEL=medium\n")
    g = GeminiOptions.from_settings(Settings(_env_file=env))
    assert (g.gemini_model, g.gemini_thinking_level) == ("gemini-3.8-flash", "medium")


def test_a_provider_key_is_hidden_from_logs_once_its_options_are_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import logging

    from reels_scripter.logs import RedactFilter, redact

    secret = "AIza-from-the-environment-5521"
    monkeypatch.setenv("GEMINI_API_KEY", secret)
    # a filter configured before the key was ever read (as at process start-up)
    net = RedactFilter(secrets=[])
    record = logging.LogRecord("x", logging.INFO, "f", 1, "url ?key=%s failed", (secret,), None)
    options = GeminiOptions.from_settings(Settings(_env_file=None))
    assert options.google_ai_api_key is not None
    assert str(options.google_ai_api_key) == "**********"  # SecretStr: never printed
    net.filter(record)
    assert record.getMessage() == "url ?key=*** failed"
    assert redact(f"worker said: bad key {secret}") == "worker said: bad key ***"
