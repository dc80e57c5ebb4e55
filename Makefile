# make test: what CI runs (moto_server and terraform must be on PATH).
# make bench: figures next to the alternatives, measured in one run.
GO ?= go

.PHONY: test bench vet lint build fuzz

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o bin/prstate .

test:
	$(GO) test -count=1 -timeout 30m ./...

vet:
	$(GO) vet ./...

bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 30m ./...

fuzz:
	$(GO) test ./pipeline/statekey -run '^$$' -fuzz FuzzKeys -fuzztime 60s

lint:
	actionlint .github/workflows/*.yml examples/github/*.yml
