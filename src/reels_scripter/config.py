"""One settings object for the whole service, read from the environment and `.env`.

Names follow the seed's `.env` where it has one (`MAX_FILE_SIZE_MB`, `GOOGLE_AI_API_KEY`, ...),
so an existing deployment's environment keeps working.

The AI providers' own settings (`GEMINI_MODEL`, `OPENAI_BASE_URL`, ...) are not fields here:
each provider declares and reads them itself (`providers/<name>/options.py`). Values given to
`Settings(...)` under such a name (a test, a caller) are kept as extras and handed on to the
provider's options, which is why extra names are allowed.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from reels_scripter.analysis.models import AnalysisOptions


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="allow", populate_by_name=True
    )

    # --- limits (seed) ---
    max_file_size_mb: int = Field(100, ge=1, alias="MAX_FILE_SIZE_MB")
    max_video_duration_sec: float = Field(180, gt=0, alias="MAX_VIDEO_DURATION_SEC")
    # 4K portrait is the largest a phone records; anything above is refused before decoding.
    max_pixels: int = Field(4096 * 2304, ge=1, alias="MAX_PIXELS")
    probe_timeout_sec: float = Field(20.0, gt=0, alias="PROBE_TIMEOUT_SEC")
    probe_memory_mb: int = Field(1024, ge=64, alias="PROBE_MEMORY_MB")

    # --- analysis ---
    data_dir: Path = Field(Path("./data"), alias="DATA_DIR")
    target_language: str = Field("ru", alias="TARGET_LANGUAGE")
    whisper_model: str | None = Field(None, alias="WHISPER_MODEL")
    whisper_threads: int = Field(0, ge=0, alias="WHISPER_THREADS")

    # --- AI provider ---
    ai_provider: str = Field("local", alias="AI_PROVIDER")
    ai_fallback: str | None = Field(None, alias="AI_FALLBACK")
    # --- AI provider limits and transport (Gemini / OpenAI-compatible) ---
    # Backoff base and a cap on the whole write (all retries together), so a provider that keeps
    # failing gives up in bounded time; tests shrink the base to milliseconds.
    ai_retry_base_delay_sec: float = Field(1.0, gt=0, alias="AI_RETRY_BASE_DELAY_SEC")
    ai_retry_max_delay_sec: float = Field(60.0, gt=0, alias="AI_RETRY_MAX_DELAY_SEC")
    ai_retry_total_sec: float = Field(600.0, gt=0, alias="AI_RETRY_TOTAL_SEC")
    # --- service (seed names) ---
    port: int = Field(3001, alias="PORT")
    node_env: str = Field("development", alias="NODE_ENV")
    frontend_url: str | None = Field(None, alias="FRONTEND_URL")
    redis_url: str | None = Field(None, alias="REDIS_URL")
    database_url: str | None = Field(None, alias="DATABASE_URL")
    storage_backend: Literal["local", "gcs"] | None = Field(None, alias="STORAGE_BACKEND")
    google_cloud_project_id: str | None = Field(None, alias="GOOGLE_CLOUD_PROJECT_ID")
    google_cloud_bucket_name: str | None = Field(None, alias="GOOGLE_CLOUD_BUCKET_NAME")
    google_application_credentials: str | None = Field(None, alias="GOOGLE_APPLICATION_CREDENTIALS")
    api_keys: str | None = Field(None, alias="API_KEYS")
    # Signs the short-lived links the studio gives <img>, <video> and EventSource, which cannot
    # send an API key header; unset: derived from API_KEYS (rotating the keys voids the links)
    url_signing_secret: SecretStr | None = Field(None, alias="URL_SIGNING_SECRET")
    # Only this key may change the studio's AI settings when API_KEYS is set (PUT
    # /api/settings/ai); unset: nobody may, the environment alone configures the AI.
    admin_api_key: SecretStr | None = Field(None, alias="ADMIN_API_KEY")
    # The secret the stored AI key is encrypted under (HKDF → Fernet). Unset: URL_SIGNING_SECRET,
    # else a random one kept in DATA_DIR/secret.key (0600). Set it wherever the API and the
    # workers do not share DATA_DIR, or they cannot read each other's stored key.
    secret_key: SecretStr | None = Field(None, alias="SECRET_KEY")
    log_level: str = Field("INFO", alias="LOG_LEVEL")

    # --- jobs, worker, storage (service backend) ---
    storage_emulator_host: str | None = Field(None, alias="STORAGE_EMULATOR_HOST")
    job_queue: str = Field("reels", alias="JOB_QUEUE")
    # Runs a job may spend on its own failures (a provider outage, a storage hiccup).
    job_max_attempts: int = Field(3, ge=1, alias="JOB_MAX_ATTEMPTS")
    # Times a job may lose its worker (SIGKILL, OOM, a deploy) and still be run again; counted
    # apart from the attempts, so a deploy never fails an innocent job. The last loss fails it
    # as `worker_lost` (a video that reliably kills workers stops after this many).
    job_max_losses: int = Field(5, ge=1, alias="JOB_MAX_LOSSES")
    # Soft limit for one analysis; the hard kill and the broker's redelivery come after it.
    job_time_limit_sec: float = Field(900.0, gt=0, alias="JOB_TIME_LIMIT_SEC")
    job_retry_backoff_sec: float = Field(10.0, ge=0, alias="JOB_RETRY_BACKOFF_SEC")
    job_retry_backoff_max_sec: float = Field(300.0, ge=0, alias="JOB_RETRY_BACKOFF_MAX_SEC")
    # Running jobs and worker processes write a heartbeat this often.
    heartbeat_interval_sec: float = Field(5.0, gt=0, alias="HEARTBEAT_INTERVAL_SEC")
    # A running job (or a worker) whose heartbeat is older than this is taken as lost: the job
    # is re-queued ahead of the backlog. With the sweep interval below, a job whose worker was
    # killed runs again within HEARTBEAT_STALE_SEC + SWEEP_INTERVAL_SEC (+ a free worker).
    heartbeat_stale_sec: float = Field(30.0, gt=0, alias="HEARTBEAT_STALE_SEC")
    # Every worker sweeps this often, in a thread of its own (never behind queued jobs).
    sweep_interval_sec: float = Field(10.0, gt=0, alias="SWEEP_INTERVAL_SEC")
    orphan_max_age_hours: float = Field(24.0, gt=0, alias="ORPHAN_MAX_AGE_HOURS")
    # How long a completed job's uploaded video stays stored, for the studio's "play this
    # row" (GET /api/jobs/{id}/video); the sweeper deletes it after that. 0: at once.
    video_retention_hours: float = Field(24.0, ge=0, alias="VIDEO_RETENTION_HOURS")
    # Test/demo knob only: sleep this long in every progress report so a job stays active
    # long enough to kill its worker mid-way. Always 0 in production.
    job_progress_delay_sec: float = Field(0.0, ge=0, alias="JOB_PROGRESS_DELAY_SEC")
    # --- HTTP API ---
    host: str = Field("0.0.0.0", alias="HOST")  # noqa: S104 - a container must listen on all
    # The API's public address (https://api.example.com), for absolute links such as the
    # webhook's statusUrl; unset: taken from each upload request (Host, X-Forwarded-*).
    public_url: str | None = Field(None, alias="PUBLIC_URL")
    # slowapi/limits syntax, per client (API key, else IP); empty string turns the limit off
    upload_rate_limit: str = Field("10/minute", alias="UPLOAD_RATE_LIMIT")
    # An upload whose body stops arriving for this long is cut off (408 upload_timeout).
    upload_idle_timeout_sec: float = Field(30.0, gt=0, alias="UPLOAD_IDLE_TIMEOUT_SEC")
    # The longest one upload may take in all (a 100 MB file at 1 Mbit/s needs ~14 min).
    upload_deadline_sec: float = Field(900.0, gt=0, alias="UPLOAD_DEADLINE_SEC")
    # Uploads one API process receives at once; beyond it: 503 too_many_uploads with
    # Retry-After. Each costs up to MAX_FILE_SIZE_MB of disk (of RAM on Cloud Run).
    max_concurrent_uploads: int = Field(16, ge=1, alias="MAX_CONCURRENT_UPLOADS")
    # How long one API process reuses a running job's status body (finished jobs: 10x);
    # 0 reads the database on every poll
    status_cache_sec: float = Field(1.0, ge=0, alias="STATUS_CACHE_SEC")
    # /metrics: with API_KEYS set it needs `Authorization: Bearer <METRICS_TOKEN>` (or, with no
    # token set, any API key); METRICS_PUBLIC=true leaves it open (a private scrape network).
    metrics_token: SecretStr | None = Field(None, alias="METRICS_TOKEN")
    metrics_public: bool = Field(False, alias="METRICS_PUBLIC")

    # --- webhooks (reels_scripter.webhooks) ---
    # Default callback for jobs uploaded without `callbackUrl`; unset: no webhook.
    webhook_url: str | None = Field(None, alias="WEBHOOK_URL")
    # Key of the X-Reels-Signature HMAC; unset: webhooks are sent unsigned.
    webhook_secret: SecretStr | None = Field(None, alias="WEBHOOK_SECRET")
    # Let callbacks reach loopback/private/link-local addresses (development only: SSRF).
    webhook_allow_private: bool = Field(False, alias="WEBHOOK_ALLOW_PRIVATE")
    webhook_max_attempts: int = Field(5, ge=1, le=20, alias="WEBHOOK_MAX_ATTEMPTS")
    # Per attempt: connect, send and wait for the receiver's status line.
    webhook_timeout_sec: float = Field(10.0, gt=0, le=120, alias="WEBHOOK_TIMEOUT_SEC")

    # --- import by link (reels_scripter.imports) ---
    # The longest one import may take, page and video together (link_timeout after it).
    import_timeout_sec: float = Field(120.0, gt=0, le=3600, alias="IMPORT_TIMEOUT_SEC")
    # A site that sends nothing for this long is given up on (at most IMPORT_TIMEOUT_SEC).
    import_stall_sec: float = Field(20.0, gt=0, le=600, alias="IMPORT_STALL_SEC")
    # Let links reach loopback/private/link-local addresses (tests, closed networks: SSRF).
    import_allow_private: bool = Field(False, alias="IMPORT_ALLOW_PRIVATE")
    # A Netscape cookies file for sites that want a login (Instagram); read, never logged.
    import_cookies_file: Path | None = Field(None, alias="IMPORT_COOKIES_FILE")
    # The ffmpeg yt-dlp merges separate video and audio streams with; unset: found on PATH.
    import_ffmpeg: str | None = Field(None, alias="IMPORT_FFMPEG")

    @property
    def max_file_size_bytes(self) -> int:
        return self.max_file_size_mb * 1024 * 1024

    @property
    def is_production(self) -> bool:
        return self.node_env == "production"

    @classmethod
    def env_names(cls) -> list[str]:
        """Every environment name a setting is read from (all of a field's accepted names)."""
        return [name for field in cls.model_fields.values() for name in field_env_names(field)]


def field_env_names(field: FieldInfo) -> list[str]:
    """A settings field's environment names: each of its `AliasChoices`, else its alias."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    return [field.alias] if field.alias else []


@lru_cache
def get_settings() -> Settings:
    return Settings()


def analysis_options(settings: Settings) -> AnalysisOptions:
    """The analysis engine's knobs from the settings (the engine stays framework-free)."""
    from reels_scripter.analysis.models import AnalysisOptions

    return AnalysisOptions(
        max_duration=settings.max_video_duration_sec,
        max_pixels=settings.max_pixels,
        max_size_bytes=settings.max_file_size_bytes,
        probe_timeout=settings.probe_timeout_sec,
        probe_memory_mb=settings.probe_memory_mb,
        whisper_model=settings.whisper_model,
        whisper_threads=settings.whisper_threads,
        model_cache_dir=settings.data_dir / "models",
    )
