# syntax=docker/dockerfile:1
# khqrbot in a container: docker build --build-arg VERSION=v0.1.0 -t khqrbot .
# docker run -e TELEGRAM_BOT_TOKEN=... -v khqrbot-data:/data khqrbot

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
# cgo for SQLite (mattn/go-sqlite3); the runtime image has the same glibc.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=1 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/khqrbot ./cmd/khqrbot

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 khqrbot \
 && useradd --system --uid 10001 --gid khqrbot --home-dir /data --shell /usr/sbin/nologin khqrbot \
 && mkdir -p /data \
 && chown khqrbot:khqrbot /data
COPY --from=build /out/khqrbot /usr/local/bin/khqrbot
ENV DATABASE_URL=/data/khqrbot.db
VOLUME /data
WORKDIR /data
USER khqrbot:khqrbot
ENTRYPOINT ["khqrbot"]
CMD ["run"]
