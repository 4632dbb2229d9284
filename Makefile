# mpm — make targets. The README's two commands work without make too.
GO      ?= go
BIN     ?= bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/mpm-dev/mpm/internal/version.Version=$(VERSION)

.PHONY: all build run test race bench bench-history bench-peers lint fuzz cross clean web

all: lint build test

## build: the binaries (the five, and mpm-hookctl beside mpm-hook) into ./bin
build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/...

## run: build, then supervise mpm-wsd in the foreground (prints the dashboard URL)
run: build
	$(BIN)/mpm-manager run

## test: every test, with the race detector (what CI runs)
test:
	$(GO) test -race -count=1 ./...

## bench: the benchmark figures (daemon, hook, journal, supervisor, client); see docs/benchmarks.md
bench:
	{ $(GO) test -run '^$$' -bench . -benchtime 1x -timeout 20m ./internal/wsd/ && \
	  $(GO) test -run '^$$' -bench Hook -timeout 30m ./internal/hook/ && \
	  $(GO) test -run '^$$' -bench JournalIngest -benchtime 20000x -timeout 20m ./internal/journal/ && \
	  $(GO) test -run '^$$' -bench JournalStartup -benchtime 1x -timeout 30m ./internal/journal/ && \
	  $(GO) test -run '^$$' -bench Recovery -benchtime 1x -timeout 20m ./internal/supervisor/ && \
	  $(GO) test -run '^$$' -bench RoundTrip -benchtime 200x ./internal/verify/ ; } 2>&1 | tee bench.out

## bench-history: issue 21's figures (storage, ingest with and without the index, search and
## start-up at 1 M events; the 1 M-event journal is built once and kept in $TMPDIR); docs/benchmarks.md
bench-history:
	{ uptime && \
	  $(GO) test -run '^$$' -bench JournalStorage -benchtime 1x ./internal/journal/ && \
	  $(GO) test -run '^$$' -bench JournalIngest -benchtime 8000x -timeout 20m ./internal/journal/ && \
	  $(GO) test -run '^$$' -bench JournalSearch -benchtime 10x -timeout 60m ./internal/journal/ && \
	  $(GO) test -run '^$$' -bench JournalStartup -benchtime 1x -timeout 60m ./internal/journal/ && \
	  uptime ; } 2>&1 | tee bench-history.out

## bench-peers: mpm-wsd (memory, journal) beside centrifugo v6.9.1, server on cpu 0, load on cpu 1
## (docs/benchmarks.md, "Side by side"). Needs wrk, taskset and the peer binary (never committed).
CENTRIFUGO ?= $(HOME)/.cache/mpm-bench/bin/centrifugo
bench-peers:
	@if [ ! -x "$(CENTRIFUGO)" ]; then \
	  echo "no centrifugo at $(CENTRIFUGO); get it with:"; \
	  echo "  GOBIN=$(dir $(CENTRIFUGO)) $(GO) install github.com/centrifugal/centrifugo/v6@v6.9.1"; \
	  echo "(or: make bench-peers CENTRIFUGO=/path/to/centrifugo)"; exit 1; fi
	$(GO) test -c -o $(abspath $(BIN))/wsd.test ./internal/wsd/
	cd internal/wsd && MPM_CENTRIFUGO=$(CENTRIFUGO) taskset -c 1 $(abspath $(BIN))/wsd.test \
	  -test.run '^$$' -test.bench '^BenchmarkPeers$$' -test.benchtime 1x -test.timeout 30m 2>&1 | tee $(CURDIR)/bench-peers.out

## lint: gofmt and go vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt wants to change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## fuzz: a short run of every fuzz target
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 20s $$pkg || exit 1; \
	  done; \
	done

## cross: the binaries must compile for macOS and Windows
cross:
	GOOS=darwin GOARCH=arm64 $(GO) build -o /dev/null ./...
	GOOS=windows GOARCH=amd64 $(GO) build -o /dev/null ./...

## web: the dashboard is hand-written static files (internal/web/dist): nothing to build
web:
	@echo "internal/web/dist is plain HTML/CSS/JS embedded as is: no build step"

clean:
	rm -rf $(BIN) bench.out bench-history.out bench-peers.out testout
