# Secbot as one small image: `docker build -t secbot .` then
#   docker run -p 3000:3000 -v secbot-data:/data secbot
# Without credentials it starts the setup page (GET /setup), which writes them to /data/secbot.env;
# restarted, it serves webhooks, on SQLite in /data (or set DATABASE_URL=postgresql://...).
#
# Without a registry or a package index, the same file builds from what is at hand:
#   --build-arg BASE=IMAGE    any Debian-like image with python3 (3.11+) and its venv module
#   --build-arg WHEELS=IMAGE  an image whose /wheels holds every wheel `pip install .` needs,
#                             e.g. made from `pip wheel . 'setuptools>=69' -w DIR`; pip then
#                             uses only those (--no-index)
# tests/test_container.py builds it that way on a base bootstrapped from Debian's packages.
ARG BASE=python:3.11-slim
ARG WHEELS=no-wheels

# By default there is no wheelhouse, and pip uses the package index.
FROM ${BASE} AS no-wheels
RUN mkdir /wheels

FROM ${WHEELS} AS wheels

# Secbot and its dependencies go into a virtual environment, copied alone into the image below:
# no wheels, no build files and no pip cache are left in it.
FROM ${BASE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY --from=wheels /wheels /wheels
WORKDIR /src
COPY pyproject.toml README.md app.yml ./
COPY bot ./bot
COPY handlers ./handlers
COPY templates ./templates
RUN python3 -m venv /opt/secbot \
    && if ls /wheels/*.whl >/dev/null 2>&1; then set -- --no-index --find-links /wheels; fi \
    && /opt/secbot/bin/pip install "$@" . \
    && /opt/secbot/bin/pip uninstall --yes pip setuptools

FROM ${BASE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/secbot/bin:$PATH
COPY --from=build /opt/secbot /opt/secbot
# The setup page reads the App manifest from the working directory.
WORKDIR /app
COPY app.yml ./
RUN useradd --system --create-home --home-dir /home/secbot --uid 10001 secbot \
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
