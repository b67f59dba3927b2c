# syntax=docker/dockerfile:1
# Trainy's one image: the entrypoint's first argument picks the role (web, worker, beat,
# migrate, import-gtfs URL, manage …); see docker/entrypoint.sh.
#
#   docker build -t registry.example.org/trainy:1.0.0 \
#     --build-arg VERSION=1.0.0 --build-arg REVISION="$(git rev-parse HEAD)" \
#     --build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
#     --build-arg SOURCE=https://git.example.org/trainy/trainy .
#
# BASE is the official Python image; `scripts/image` builds the same Dockerfile with buildah on
# a stand-in base where no registry can be reached (see the README's "The image").

# No HEALTHCHECK: Kubernetes probes each role on its own endpoint (web: /healthz and /readyz,
# worker and beat: /healthz on port 9808); a HEALTHCHECK would test one role and is ignored by
# Kubernetes anyway.
# checkov:skip=CKV_DOCKER_2: health is checked by the Kubernetes probes of each role (see above)
# checkov:skip=CKV_DOCKER_7: the base is the build argument BASE, whose default is a pinned tag

ARG BASE=python:3.11-slim-bookworm

# --- builder: every requirement, from wheels, into a virtualenv ----------------------------------
FROM ${BASE} AS builder

# Wheels only: every pinned requirement publishes one for CPython 3.11 on Linux x86-64, so the
# build needs no compiler (a requirement without one fails here, loudly, rather than pulling
# build tools into the build). Behind a package mirror or a TLS-intercepting proxy, give pip
# the machine's settings as build secrets (never copied into a layer):
#   --secret id=pipconf,src=/etc/pip.conf --secret id=cacerts,src=/etc/ssl/certs/ca-certificates.crt
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_ONLY_BINARY=:all:

COPY requirements.txt /src/requirements.txt
# pip compiles the bytecode now: the root filesystem is read-only at run time.
RUN --mount=type=secret,id=pipconf,target=/etc/pip.conf \
    --mount=type=secret,id=cacerts,target=/etc/ssl/certs/ca-certificates.crt \
    python -m venv /opt/venv \
    && /opt/venv/bin/pip install -r /src/requirements.txt \
    && /opt/venv/bin/pip uninstall --yes --quiet pip

# --- runtime: no compilers, no build files, a user of its own ------------------------------------
FROM ${BASE} AS runtime

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
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus

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

# What this build is, last: a new revision re-does these lines only, not the layers above.
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
ENV TRAINY_VERSION=${VERSION}

USER 10001:10001
EXPOSE 8000 9808
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["web"]
