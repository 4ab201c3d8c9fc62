# syntax=docker/dockerfile:1
# The Fapiao gateway as a container image: a build stage installs the pinned packages into a
# virtualenv; the runtime stage copies only that virtualenv and runs as a non-root user.
#
#   docker build -t fapiao-gateway:0.1.0 .
#   docker run --rm -p 127.0.0.1:50051:50051 fapiao-gateway:0.1.0 serve --sandbox
#
# Configure it with FAPIAO_* variables and/or a TOML file named by FAPIAO_CONFIG_FILE (see
# deploy/fapiao-gateway.example.toml). The SQLite default ledger lives in /var/lib/fapiao-gateway;
# use PostgreSQL (FAPIAO_DATABASE_URL) for anything with more than one replica.
# The test suite lints this file with hadolint and, where a Docker engine runs, builds it.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
# The virtualenv's scripts name this path in their first line: the runtime stage keeps it.
RUN python -m venv /opt/fapiao-gateway
WORKDIR /src
COPY requirements/lock.txt requirements/lock.txt
COPY clients/python clients/python
COPY pyproject.toml README.md ./
COPY server server
# The lock pins every package (dev tools too; -c installs only what is asked for).
RUN /opt/fapiao-gateway/bin/pip install --no-cache-dir -c requirements/lock.txt \
        ./clients/python . \
    && /opt/fapiao-gateway/bin/fapiao-gateway --version

FROM ${PYTHON_IMAGE} AS runtime
ARG UID=10001
RUN groupadd --system --gid "${UID}" fapiao \
    && useradd --system --uid "${UID}" --gid fapiao --no-create-home \
        --home-dir /var/lib/fapiao-gateway --shell /usr/sbin/nologin fapiao \
    && install -d -o fapiao -g fapiao -m 0750 /var/lib/fapiao-gateway
COPY --from=build /opt/fapiao-gateway /opt/fapiao-gateway
ENV PATH=/opt/fapiao-gateway/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    FAPIAO_LISTEN=0.0.0.0:50051
WORKDIR /var/lib/fapiao-gateway
USER ${UID}:${UID}
# 50051: gRPC; 8081: the import pages and the browser endpoint, where browser_listen sets them.
EXPOSE 50051 8081
# grpc.health.v1 on the configured listen port, over the container's loopback in plaintext;
# a gateway serving TLS needs its own HEALTHCHECK with --ca-file (`fapiao-gateway health -h`).
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["fapiao-gateway", "health"]
# The gateway is PID 1: SIGTERM drains calls, SIGHUP reloads the callers.
ENTRYPOINT ["fapiao-gateway"]
CMD ["serve"]
