# Build: a static binary, no cgo, trimmed.
FROM golang:1.26-alpine AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /prstate .

# Run: distroless static has CA certificates and nothing else (~2 MB +
# the binary). The default user, as GitHub asks of Docker actions, so the
# workspace files it writes belong to the job. The binary is PID 1 in exec
# form, so SIGTERM from the runner reaches Go's handler.
FROM gcr.io/distroless/static-debian12
COPY --from=build /prstate /prstate
ENTRYPOINT ["/prstate"]
