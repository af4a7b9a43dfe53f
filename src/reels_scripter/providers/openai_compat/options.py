"""Settings of the OpenAI-compatible provider (OpenAI, Ollama, vLLM, LM Studio). Pydantic only."""

from __future__ import annotations

from pydantic import SecretStr

from reels_scripter.providers.options import ProviderOptions, option


class OpenAIOptions(ProviderOptions):
    openai_api_key: SecretStr | None = option(None, env="OPENAI_API_KEY")
    # Another server may serve another model under the same name: it changes results too.
    openai_base_url: str | None = option(None, env="OPENAI_BASE_URL", changes_result=True)
    openai_model: str = option("gpt-4o-mini", env="OPENAI_MODEL", changes_result=True)
    # None: the server's default (reasoning models refuse any other value).
    openai_temperature: float | None = option(
        None, env="OPENAI_TEMPERATURE", changes_result=True, ge=0, le=2
    )
    openai_max_images: int = option(12, env="OPENAI_MAX_IMAGES", changes_result=True, ge=0)
    openai_rpm: int = option(60, env="OPENAI_RPM", ge=1)
    openai_max_retries: int = option(5, env="OPENAI_MAX_RETRIES", ge=0)
    openai_timeout_sec: float = option(300.0, env="OPENAI_TIMEOUT_SEC", gt=0)
    openai_price_input_per_mtok: float | None = option(
        None, env="OPENAI_PRICE_INPUT_PER_MTOK", ge=0
    )
    openai_price_output_per_mtok: float | None = option(
        None, env="OPENAI_PRICE_OUTPUT_PER_MTOK", ge=0
    )
