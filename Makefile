# salesbot — see README.md. `make demo` runs the main job, `make test` the tests.
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
DEMO_DIR ?= $(CURDIR)/data/demo

.PHONY: build release test lint demo bench fuzz crash clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/salesbot ./cmd/salesbot

# Static release binaries (no cgo; the zone database is embedded, see
# domain/tzdata.go, and -tags timetzdata embeds it for any package too)
# for the platforms in PLATFORMS, in dist/ with their SHA256SUMS.
# BUILDVCS=auto stamps the commit (salesbot version shows it) when built in a
# git clone (not a worktree); BUILDVCS=false where git cannot answer.
PLATFORMS ?= linux/amd64 linux/arm64
DIST      ?= dist
BUILDVCS  ?= auto

release:
	rm -rf $(DIST) && mkdir -p $(DIST)
	@set -e; for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; out=$(DIST)/salesbot-$$os-$$arch; \
		echo "$(GO) build $$p -> $$out"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -buildvcs=$(BUILDVCS) -tags timetzdata \
			-ldflags "-s -w $(LDFLAGS)" -o $$out ./cmd/salesbot; \
	done
	cd $(DIST) && sha256sum salesbot-* > SHA256SUMS && cat SHA256SUMS

test:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 15m ./...

lint:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@# The layers and what may import what: cmd/layers/rules.go, docs/ARCHITECTURE.md.
	$(GO) run ./cmd/layers ./...

# The whole system on this machine: a sandbox Telegram with 3 accounts and
# about 30 lead personas, a contacts import, a campaign with two prompt
# variants, the dialog engine (offline, or the LLM when configured), then a
# summary. The data dir stays for replay, verify and projections rebuild.
demo: build
	rm -rf $(DEMO_DIR)
	bin/salesbot demo --data-dir $(DEMO_DIR)

bench: build
	bin/salesbot bench append --concurrency 64 --events 200000 --baseline --json
	bin/salesbot bench accounts --accounts 100 --data-dir $(CURDIR)/data/bench-accounts --json
	bin/salesbot bench pipeline --rate 200 --duration 10s --json
	$(GO) test -run '^$$' -bench . -benchtime 2s ./eventstore/
	$(GO) test -run '^$$' -bench Inbox -benchtime 200x ./adapters/web/

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecodeRecord -fuzztime 60s ./eventstore/

# A long crash soak: hundreds of SIGKILL rounds.
crash:
	$(GO) test -count=1 -run TestCrashRecovery ./eventstore/ -crash.iterations=300 -v

clean:
	rm -rf bin $(DIST)
