# salesbot — see README.md. `make demo` runs the main job, `make test` the tests.
GO      ?= go
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
DEMO_DIR ?= $(CURDIR)/data/demo

.PHONY: build test lint demo bench fuzz crash clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/salesbot ./cmd/salesbot

test:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@bad=$$($(GO) list -deps ./domain/... | grep -E 'gotd/td|telego|pgx|pebble|go-openai|^net/http$$|^database/sql$$' || true); \
	  if [ -n "$$bad" ]; then echo "domain/ imports I/O packages:"; echo "$$bad"; exit 1; fi

# Until the demo issue lands: run salesbot against the in-process sandbox
# Telegram for 20 seconds (three accounts write to scripted leads, strangers
# write in), then show the accounts, the first dialog and verify the log.
demo: build
	rm -rf $(DEMO_DIR)
	bin/salesbot run --sandbox --for 20s --data-dir $(DEMO_DIR)
	bin/salesbot accounts list --data-dir $(DEMO_DIR)
	bin/salesbot replay dialog 1 --data-dir $(DEMO_DIR)
	bin/salesbot verify --data-dir $(DEMO_DIR)

bench: build
	bin/salesbot bench append --concurrency 64 --events 200000 --baseline --json
	bin/salesbot bench accounts --accounts 100 --data-dir $(CURDIR)/data/bench-accounts --json
	$(GO) test -run '^$$' -bench . -benchtime 2s ./eventstore/

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecodeRecord -fuzztime 60s ./eventstore/

# A long crash soak: hundreds of SIGKILL rounds.
crash:
	$(GO) test -count=1 -run TestCrashRecovery ./eventstore/ -crash.iterations=300 -v

clean:
	rm -rf bin
