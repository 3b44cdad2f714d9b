# infusiondesk — the front door. On a fresh machine:
#   make run    start (or reuse) a local PostgreSQL, migrate, load the demo clinic, serve
#   make test   vet, check generated code, run every test against a throwaway PostgreSQL
SHELL := /bin/bash
GO    ?= go

BIN      := .data/bin/infusiondesk
DEVDB    := .data/bin/devdb
DEV_DIR  := .data/dev
TEST_DIR := .data/test

REDOCLY_VERSION := 2.77.0
REDOCLY := .data/tools/node_modules/.bin/redocly

# The demo's local mail server: every message the demo sends lands in its web page.
MAILPIT_VERSION := v1.33.1
MAILPIT     := .data/tools/bin/mailpit
MAILPIT_DIR := .data/mailpit
MAILPIT_SMTP ?= 127.0.0.1:1025
MAILPIT_UI   ?= 127.0.0.1:8025

HTMX_VERSION := 2.0.11
PICO_VERSION := 2.1.1
# axe-core runs inside the browser tests only (internal/browsertest/axe): never served.
AXE_VERSION  := 4.14.1

.PHONY: ha ha-stop ha-test backup backup-test bench-http bench-audit staticcheck complexity mailpit stop-mail deps load-short openapi-lint bench-smoke run build test fuzz vet fmt-check generate check-generated lint bench load stop-db reset-demo vendor clean

build:
	@$(GO) build -o $(BIN) ./cmd/infusiondesk
	@$(GO) build -o $(DEVDB) ./cmd/devdb

## deps: install the system packages the project uses when missing (as root; else print the command)
deps:
	@bash .ci/deps

## run: serve the demo clinic (with no DATABASE_URL, on a project-local PostgreSQL; with no SMTP_URL,
## its mail goes to a local Mailpit whose web page shows every message)
run: deps build
	@set -e; \
	if [ -z "$$DATABASE_URL" ]; then \
		DATABASE_URL=$$($(DEVDB) -dir $(DEV_DIR) start); \
		echo "Using the project-local PostgreSQL in $(DEV_DIR) ('make stop-db' stops it)."; \
	fi; \
	export DATABASE_URL; \
	if [ -z "$$SMTP_URL" ]; then \
		$(MAKE) --no-print-directory mailpit; \
		export SMTP_URL="smtp://$(MAILPIT_SMTP)?tls=none" MAIL_FROM="$${MAIL_FROM:-Desert Bloom Pain & Infusion <desk@desertbloom.example>}"; \
		export BASE_URL="$${BASE_URL:-http://$${ADDR:-127.0.0.1:8080}}"; \
		echo "Mail the demo sends: http://$(MAILPIT_UI) (Mailpit; texts are off without SMS_API_BASE)."; \
	fi; \
	$(BIN) migrate up; \
	$(BIN) demo || echo "Continuing without the demo clinic."; \
	exec $(BIN) serve

## mailpit: build (once) and start (unless running) the local Mailpit the demo's mail goes to
mailpit: $(MAILPIT)
	@if curl -fsS -o /dev/null "http://$(MAILPIT_UI)/api/v1/info" 2>/dev/null; then exit 0; fi; \
	mkdir -p $(MAILPIT_DIR); \
	nohup $(MAILPIT) --smtp $(MAILPIT_SMTP) --listen $(MAILPIT_UI) --database $(MAILPIT_DIR)/mailpit.db \
		--ignore-duplicate-ids --disable-version-check --quiet > $(MAILPIT_DIR)/mailpit.log 2>&1 & echo $$! > $(MAILPIT_DIR)/pid; \
	for i in $$(seq 50); do curl -fsS -o /dev/null "http://$(MAILPIT_UI)/api/v1/info" 2>/dev/null && exit 0; sleep 0.1; done; \
	echo "Mailpit did not start; see $(MAILPIT_DIR)/mailpit.log"; exit 1

$(MAILPIT):
	@echo "Building Mailpit $(MAILPIT_VERSION), the demo's local mail server (once; about a minute)."
	@GOBIN=$(abspath .data/tools/bin) $(GO) install github.com/axllent/mailpit@$(MAILPIT_VERSION)

## stop-mail: stop the demo's Mailpit
stop-mail:
	@if [ -f $(MAILPIT_DIR)/pid ]; then kill $$(cat $(MAILPIT_DIR)/pid) 2>/dev/null || true; rm -f $(MAILPIT_DIR)/pid; fi

## test: vet, formatting, generated code, the OpenAPI lint, every test with the race detector,
## every benchmark once, fuzzing, a 20-second make load, the failover drill and the restore drill
test:
	@bash .ci/deps test
	@$(MAKE) --no-print-directory vet fmt-check check-generated openapi-lint staticcheck complexity build
	@set -e; \
	trap '$(DEVDB) -dir $(TEST_DIR) destroy >/dev/null 2>&1 || true' EXIT; \
	$(GO) test -race -count=1 ./...; \
	$(MAKE) --no-print-directory bench-smoke
	@$(MAKE) --no-print-directory fuzz
	@$(MAKE) --no-print-directory load-short
	@if command -v pg_autoctl >/dev/null; then $(MAKE) --no-print-directory ha-test; \
		else echo "ha-test skipped: pg_autoctl is not installed (make deps)"; fi
	@if command -v pgbackrest >/dev/null; then $(MAKE) --no-print-directory backup-test; \
		else echo "backup-test skipped: pgbackrest is not installed (make deps)"; fi

## fuzz: every fuzz target for FUZZTIME each (findings land in testdata/fuzz: fix, keep as regression).
## A count of executions, not a duration: Go 1.26's fuzz coordinator can fail a duration-bound
## run with a bare "context deadline exceeded" when a busy worker misses the deadline (go.dev/issue/75804).
FUZZTIME ?= 50000x
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "fuzz $$target ($(FUZZTIME))"; \
			out=$$($(GO) test $$pkg -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) 2>&1) || { echo "$$out"; exit 1; }; \
		done; \
	done

vet:
	$(GO) vet ./...

fmt-check:
	@bad=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.data/*')); \
	if [ -n "$$bad" ]; then echo "gofmt would change: $$bad"; exit 1; fi

## generate: regenerate the templ components' Go code
generate:
	$(GO) tool templ generate -path web

## check-generated: fail when the committed *_templ.go differ from what templ generates
check-generated:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	cp web/*.templ $$tmp/; $(GO) tool templ generate -path $$tmp >/dev/null 2>&1; \
	for f in $$tmp/*_templ.go web/*_templ.go; do \
		cmp -s $$tmp/$$(basename $$f) web/$$(basename $$f) || \
			{ echo "generated templ code is stale ($$(basename $$f)): run 'make generate' and commit"; exit 1; }; \
	done

## openapi-lint: the API document under Redocly CLI's recommended rules, every warning an error
openapi-lint:
	@[ -x $(REDOCLY) ] && [ "$$($(REDOCLY) --version 2>/dev/null)" = "$(REDOCLY_VERSION)" ] || \
		npm install --silent --no-audit --no-fund --prefix .data/tools @redocly/cli@$(REDOCLY_VERSION) >/dev/null
	@out=$$($(REDOCLY) lint --config .ci/redocly.yaml internal/server/openapi.json 2>&1); status=$$?; \
		echo "$$out" | grep -v '[║╔╚]' | grep -v '^[[:space:]]*$$'; exit $$status

lint: vet fmt-check check-generated openapi-lint staticcheck complexity

## staticcheck: honnef.co/go/tools' checks (a Go tool of the module, pinned in go.mod)
staticcheck:
	$(GO) tool staticcheck ./...

## complexity: fails on any function of the store or the server over cyclomatic complexity 15 (gocyclo)
complexity:
	@$(GO) tool gocyclo -over 15 -ignore '_test|_templ' internal/postgres internal/server

## bench: the benchmarks (figures go in the issue notes and the README)
bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./...

## bench-smoke: every benchmark once (part of make test), so that a benchmark a change broke fails
bench-smoke:
	@out=$$($(GO) test -run '^$$' -bench . -benchtime 1x ./... 2>&1) || { echo "$$out"; exit 1; }; echo "benchmarks: each ran once"

## load: a clinic day at scale against two servers sharing one fresh database
## (LOAD_CLIENTS, LOAD_DURATION); prints throughput, latency and the invariant checks
LOAD_DIR      := .data/load
LOAD_CLIENTS  ?= 32
LOAD_DURATION ?= 60s
load: build
	@$(GO) build -o .data/bin/loadtest ./cmd/loadtest
	@set -e; \
	trap 'kill $$(jobs -p) 2>/dev/null; wait 2>/dev/null; $(DEVDB) -dir $(LOAD_DIR) destroy >/dev/null 2>&1 || true' EXIT; \
	export DATABASE_URL=$$($(DEVDB) -dir $(LOAD_DIR) start); \
	$(BIN) migrate up >/dev/null; $(BIN) demo >/dev/null; \
	ADDR=127.0.0.1:18081 LOG_LEVEL=warn $(BIN) serve >$(LOAD_DIR).server1.log 2>&1 & \
	ADDR=127.0.0.1:18082 LOG_LEVEL=warn $(BIN) serve >$(LOAD_DIR).server2.log 2>&1 & \
	for port in 18081 18082; do \
		for i in $$(seq 1 100); do curl -sf http://127.0.0.1:$$port/readyz >/dev/null && break; sleep 0.1; done; \
	done; \
	.data/bin/loadtest -targets http://127.0.0.1:18081,http://127.0.0.1:18082 -clients $(LOAD_CLIENTS) -duration $(LOAD_DURATION)

## bench-http: this tree's server and the release before the sealed audit log (commit 1fffe51), each on
## its own fresh demo database, driven in turn by vegeta at BENCH_CONNS connections for BENCH_DURATION a
## scenario (day view, two weeks of appointments, a patient's page, a booking loop): req/s, p50/p99, lag
BENCH_DIR      := .data/bench
BENCH_BEFORE   := 1fffe51
BENCH_CONNS    ?= 32
BENCH_DURATION ?= 10s
BENCH_PPROF    ?=
bench-http: build
	@$(GO) build -o .data/bin/benchhttp ./cmd/benchhttp
	@set -e; before=$(BENCH_DIR)/infusiondesk-$(BENCH_BEFORE); \
	if [ ! -x $$before ]; then \
		echo "Building the release before the sealed audit log ($(BENCH_BEFORE)), once."; \
		rm -rf $(BENCH_DIR)/src; mkdir -p $(BENCH_DIR)/src; \
		git archive $(BENCH_BEFORE) | tar -x -C $(BENCH_DIR)/src; \
		(cd $(BENCH_DIR)/src && $(GO) build -o ../infusiondesk-$(BENCH_BEFORE) ./cmd/infusiondesk); \
	fi; \
	trap 'kill $$(jobs -p) 2>/dev/null; wait 2>/dev/null; $(DEVDB) -dir $(BENCH_DIR)/db destroy >/dev/null 2>&1 || true' EXIT; \
	$(DEVDB) -dir $(BENCH_DIR)/db destroy >/dev/null 2>&1 || true; \
	old_db=$$($(DEVDB) -dir $(BENCH_DIR)/db start -db before); new_db=$$($(DEVDB) -dir $(BENCH_DIR)/db start -db after); \
	DATABASE_URL=$$old_db $$before migrate up >/dev/null 2>&1; DATABASE_URL=$$old_db $$before demo >/dev/null; \
	DATABASE_URL=$$new_db $(BIN) migrate up >/dev/null 2>&1; DATABASE_URL=$$new_db $(BIN) demo >/dev/null; \
	DATABASE_URL=$$old_db ADDR=127.0.0.1:18181 LOG_LEVEL=warn $$before serve >$(BENCH_DIR)/before.log 2>&1 & \
	DATABASE_URL=$$new_db ADDR=127.0.0.1:18182 LOG_LEVEL=warn PPROF_ADDR=$(BENCH_PPROF) $(BIN) serve >$(BENCH_DIR)/after.log 2>&1 & \
	for port in 18181 18182; do \
		for i in $$(seq 1 100); do curl -sf http://127.0.0.1:$$port/readyz >/dev/null && break; sleep 0.1; done; \
	done; \
	.data/bin/benchhttp -target $(BENCH_BEFORE)=http://127.0.0.1:18181 -target this=http://127.0.0.1:18182 \
		-conns $(BENCH_CONNS) -duration $(BENCH_DURATION); \
	DATABASE_URL=$$new_db $(BIN) audit verify

## bench-audit: seal and verify an audit log of AUDIT_BENCH_ROWS rows (default 1,000,000; target < 60 s)
AUDIT_BENCH_ROWS ?= 1000000
bench-audit:
	AUDIT_BENCH_ROWS=$(AUDIT_BENCH_ROWS) $(GO) test -run '^$$' -bench BenchmarkVerifyAuditLog -benchtime 1x -timeout 30m ./internal/postgres

## load-short: make load for about 20 s, part of make test: any failed request or broken invariant fails it
load-short:
	@$(MAKE) --no-print-directory load LOAD_DURATION=20s

## ha: a pg_auto_failover formation under .data/ha (a monitor, a primary and its synchronous
## secondary on loopback ports), migrated, with the demo clinic; prints the DATABASE_URL to serve on
HA_DIR := .data/ha
ha: build
	@bash .ci/deps ha
	@set -e; url=$$($(DEVDB) -dir $(HA_DIR) formation start); \
	DATABASE_URL=$$url $(BIN) migrate up; \
	DATABASE_URL=$$url $(BIN) demo || echo "Continuing without the demo clinic."; \
	echo; echo "The formation in $(HA_DIR) ('make ha-stop' stops it; 'make ha' starts it again):"; \
	$(DEVDB) -dir $(HA_DIR) formation status | sed 's/^/  /'; \
	echo; echo "Serve the clinic on it:"; echo "  make run DATABASE_URL='$$url'"

## ha-stop: stop the formation of 'make ha'
ha-stop: build
	@$(DEVDB) -dir $(HA_DIR) formation stop

## ha-test: the failover drill: 8 desks book through two servers on a fresh formation, the primary is
## SIGKILLed mid-load (twice: the second time the old primary is back as the secondary); prints
## acknowledged, lost, partial series, overlaps and the failover seconds; fails on any loss
ha-test: build
	@bash .ci/deps ha
	@$(GO) build -o .data/bin/drill ./cmd/drill
	@.data/bin/drill failover

## backup: archive the WAL of 'make run''s cluster into the pgBackRest repository in .data/backups and
## take a backup (BACKUP_TYPE incr, diff or full; the first is full)
BACKUP_REPO := .data/backups
BACKUP_TYPE ?= incr
backup: build
	@bash .ci/deps ha
	@$(DEVDB) -dir $(DEV_DIR) backup -repo $(BACKUP_REPO) -type $(BACKUP_TYPE)

## backup-test: the restore drill: book, back up, book, checkpoint the audit log, note T, book, restore
## to T into a fresh cluster and check through a server on it; prints the figures; fails on a mismatch
backup-test: build
	@bash .ci/deps ha
	@$(GO) build -o .data/bin/drill ./cmd/drill
	@.data/bin/drill restore

## stop-db: stop the project-local PostgreSQL of 'make run'
stop-db: build
	$(DEVDB) -dir $(DEV_DIR) stop

## reset-demo: drop the local demo database; the next 'make run' builds a fresh demo dated today
reset-demo: build
	$(DEVDB) -dir $(DEV_DIR) drop-db

## vendor: fetch htmx and Pico CSS from npm into web/static/vendor, and axe-core (for the
## browser tests only) into internal/browsertest/axe (all committed)
vendor:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	(cd $$tmp && npm pack --silent htmx.org@$(HTMX_VERSION) @picocss/pico@$(PICO_VERSION) axe-core@$(AXE_VERSION) >/dev/null && \
	 mkdir htmx pico axe && tar xzf htmx.org-$(HTMX_VERSION).tgz -C htmx && tar xzf picocss-pico-$(PICO_VERSION).tgz -C pico && \
	 tar xzf axe-core-$(AXE_VERSION).tgz -C axe); \
	cp $$tmp/axe/package/axe.min.js internal/browsertest/axe/axe.min.js; \
	cp $$tmp/axe/package/LICENSE internal/browsertest/axe/LICENSE.txt; \
	cp $$tmp/htmx/package/dist/htmx.min.js web/static/vendor/htmx.min.js; \
	cp $$tmp/htmx/package/LICENSE web/static/vendor/htmx.LICENSE.txt; \
	cp $$tmp/pico/package/css/pico.jade.min.css web/static/vendor/pico.min.css; \
	cp $$tmp/pico/package/LICENSE.md web/static/vendor/pico.LICENSE.txt; \
	echo "vendored htmx $(HTMX_VERSION), Pico CSS $(PICO_VERSION) and axe-core $(AXE_VERSION)"

clean:
	rm -rf .data/bin
