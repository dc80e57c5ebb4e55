# make test: what CI runs, the full suite (moto_server and terraform must be on PATH).
# make test-short: the inner loop (go test -short): unit tests, conformance
# on memstore, in-process CLI tests; no moto, MinIO, terraform, tofu or binary.
# make bench: figures next to the alternatives, measured in one run.
GO ?= go

.PHONY: test test-short bench vet lint build fuzz

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o bin/prstate .

test:
	$(GO) test -count=1 -timeout 30m ./...

vet:
	$(GO) vet ./...

test-short:
	$(GO) test -short -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./...

fuzz:
	$(GO) test ./pipeline/statekey -run '^$$' -fuzz FuzzKeys -fuzztime 60s

lint:
	actionlint .github/workflows/*.yml examples/github/*.yml
	golangci-lint run ./...
