# syntax=docker/dockerfile:1
# Trainy's one image: the entrypoint's first argument picks the role (web, worker, beat,
# migrate, import-gtfs URL, manage …); see docker/entrypoint.sh.
#
#   docker build -t registry.example.org/trainy:1.0.0 \
#     --build-arg VERSION=1.0.0 --build-arg REVISION="$(git rev-parse HEAD)" \
#     --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
#     --build-arg SOURCE=https://git.example.org/trainy/trainy .

# No HEALTHCHECK: Kubernetes probes each role on its own endpoint (web: /healthz and /readyz,
# worker and beat: /healthz on port 9808); a HEALTHCHECK would test one role and is ignored by
# Kubernetes anyway.
# checkov:skip=CKV_DOCKER_2: health is checked by the Kubernetes probes of each role (see above)

# --- builder: wheels for every requirement, installed into a virtualenv --------------------------
FROM python:3.11-slim-bookworm AS builder

# Compilers only here, for any requirement that ships no wheel for this platform.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

COPY requirements.txt /src/requirements.txt
RUN pip wheel --wheel-dir /wheels -r /src/requirements.txt \
    && python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-index --find-links /wheels -r /src/requirements.txt

# --- runtime: no compilers, no build files, a user of its own ------------------------------------
FROM python:3.11-slim-bookworm AS runtime

ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
# Where the source lives (the organisation's GitLab project), given at build time.
ARG SOURCE=""
LABEL org.opencontainers.image.title="Trainy" \
      org.opencontainers.image.description="Self-hosted check-in service for public transport" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}"

# A fixed numeric uid/gid, so Kubernetes can check runAsNonRoot and the chart can name it.
RUN groupadd --system --gid 10001 trainy \
    && useradd --system --uid 10001 --gid trainy --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin trainy

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=trainy.settings \
    STATIC_ROOT=/app/staticfiles \
    TRAINY_STATIC_MANIFEST=true \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus \
    TRAINY_VERSION=${VERSION}

COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY --chown=root:root . /app

# Static files are collected (hashed and compressed, served by whitenoise) and the bytecode
# compiled now: the root filesystem is read-only at run time. Settings need a key and hosts to
# load; these exist for this one command only.
RUN env -u PROMETHEUS_MULTIPROC_DIR DEBUG=false SECRET_KEY=collectstatic-at-build-time-only \
        ALLOWED_HOSTS=localhost TRAINY_DATA_DIR=/tmp/build-data \
        python manage.py collectstatic --noinput --verbosity 0 \
    && rm -rf /tmp/build-data \
    && python -m compileall -q -j 0 /app \
    && chmod 0755 /app/docker/entrypoint.sh

USER 10001:10001
EXPOSE 8000 9808
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["web"]
