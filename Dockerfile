# Secbot as one small image: `docker build -t secbot .` then
#   docker run -p 3000:3000 --env-file secbot.env -e DATABASE_URL=postgresql://... secbot
# Without credentials it starts the setup page (GET /setup) instead of the webhook server.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md app.yml ./
COPY bot ./bot
COPY handlers ./handlers
COPY templates ./templates
RUN pip install . \
    && useradd --system --create-home --home-dir /home/secbot --uid 10001 secbot \
    && mkdir -p /data \
    && chown secbot /data

# The SQLite default lives in /data (mount a volume there); set DATABASE_URL for PostgreSQL.
# The setup page writes the App's credentials to SECBOT_ENV_FILE, mode 0600.
ENV DATABASE_URL=sqlite:////data/secbot.db \
    SECBOT_ENV_FILE=/data/secbot.env \
    PORT=3000
USER secbot
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request, sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4).status != 200)"
CMD ["secbot", "serve"]
