# syntax=docker/dockerfile:1
# Margin image: `docker build -t margin .` from this folder, or
# `docker compose up` with docker-compose.yml (see README, "Deployment").

# Build: cgo is needed for SQLite (mattn/go-sqlite3), so the toolchain image
# has gcc and the binary links glibc dynamically.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /out/margin ./server

# Run: slim glibc image of the same Debian release as the build, a non-root
# user, data on a volume. No curl: `margin healthcheck` asks /healthz itself.
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin margin \
    && mkdir /data && chown margin:margin /data && chmod 0750 /data
COPY --from=build /out/margin /usr/local/bin/margin
USER 10001:10001
ENV MARGIN_ADDR=0.0.0.0:8080 \
    MARGIN_DATA_DIR=/data \
    MARGIN_LOG_FORMAT=json
WORKDIR /data
VOLUME /data
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["margin", "healthcheck"]
# SIGTERM stops the server gracefully (it drains open requests).
STOPSIGNAL SIGTERM
ENTRYPOINT ["margin"]
CMD ["serve"]
