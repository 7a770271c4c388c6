# syntax=docker/dockerfile:1
# upbit-sell-bot: multi-stage image, after https://docs.astral.sh/uv/guides/integration/docker/
# and https://github.com/astral-sh/uv-docker-example.
#
#   docker build -t upbit-sell-bot .
#   docker run -d --env-file .env -v upbit-data:/data upbit-sell-bot
#
# Both stages use the same base image, so the interpreter path baked into the venv matches.

# ---------------------------------------------------------------------------------------------
FROM python:3.11-slim AS builder

# Compile bytecode at build time, copy (not hard-link) out of uv's cache, and never download
# an interpreter: the base image's Python is the one the venv must use.
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=0 \
    UV_PROJECT_ENVIRONMENT=/app/.venv

RUN pip install --no-cache-dir --disable-pip-version-check "uv==0.13.8"

WORKDIR /app

# Dependencies only: this layer stays cached until pyproject.toml or uv.lock change.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --no-install-project

# The project itself, installed as a regular (non-editable) package into the venv. The wheel
# carries the migrations as package data (bot/_migrations links to migrations/).
COPY bot/ ./bot/
COPY migrations/ ./migrations/
RUN uv sync --locked --no-dev --no-editable

# ---------------------------------------------------------------------------------------------
FROM python:3.11-slim AS runtime

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app \
    && mkdir -p /data /app \
    && chown app:app /data /app

WORKDIR /app

# The venv holds the bot (site-packages/bot, migrations included) and its console script.
COPY --from=builder --chown=app:app /app/.venv /app/.venv

ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DATABASE_URL=sqlite:////data/upbit-sell-bot.db \
    HEARTBEAT_FILE=/tmp/upbit-sell-bot.heartbeat

# The numeric id (user and group "app") also satisfies runAsNonRoot checks.
USER 10001:10001

# The SQLite database and its -wal/-shm files live here.
VOLUME /data

# Webhook mode only (WEBHOOK_URL set); long polling needs no inbound port.
EXPOSE 8443

# No port to probe in polling mode: the bot touches HEARTBEAT_FILE every 15 s and this check
# (no network, no token) fails when the file is missing or older than 60 s.
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "-m", "bot.healthcheck"]

# The bot handles SIGTERM: `docker stop` shuts it down cleanly within a few seconds.
CMD ["upbit-sell-bot"]
