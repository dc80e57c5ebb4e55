# Build: a static binary, no cgo, trimmed. Base images are pinned by the
# digest of their multi-arch index (the tag is for the reader); refresh both
# with `docker buildx imagetools inspect <image:tag>`. GOTOOLCHAIN=local in
# the official image: keep its Go at least go.mod's.
# golang:1.26.8-alpine (alpine 3.24)
FROM golang:1.26.8-alpine@sha256:8ac98ca534ac3f51e1f420a1dd2c15e74c75cfa0f23f3ad27eb5d7236c349a0c AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /prstate .

# Run: distroless static has CA certificates and nothing else (~2 MB +
# the binary). The default user, as GitHub asks of Docker actions, so the
# workspace files it writes belong to the job. The binary is PID 1 in exec
# form, so SIGTERM from the runner reaches Go's handler.
# gcr.io/distroless/static-debian12:latest
FROM gcr.io/distroless/static-debian12:latest@sha256:d75cdd72874d4790092fcb1b058493ecf6bb5bf2b2b897045b00ff01d91843f2
COPY --from=build /prstate /prstate
ENTRYPOINT ["/prstate"]
