# dbfence: build, test, demo and benchmarks. `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
BIN := bin/dbfence
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
PKGS := ./...

.PHONY: help build test test-short demo bench bench-sysbench bench-pgbench bench-audit lint fuzz databases clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

build: ## build bin/dbfence
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/dbfence

databases: ## make sure MariaDB and PostgreSQL run with the test accounts (installs them if missing)
	bash scripts/ensure-databases.sh

test: databases ## every test, against the real databases
	$(GO) vet $(PKGS)
	$(GO) test -count=1 -timeout 25m $(PKGS)

test-short: ## unit tests only (no databases needed)
	$(GO) test -short -count=1 $(PKGS)

demo: databases build ## seed the demo databases and run the proxy in the foreground
	$(BIN) demo --config configs/demo.yaml

bench: ## Go micro-benchmarks of the hot paths
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 1s ./proxy/... ./rules/... ./masking/... ./audit/... ./bench/...

bench-sysbench: databases build ## sysbench through the proxy vs direct (see bench/README.md)
	bash bench/sysbench-proxy.sh

bench-pgbench: databases build ## pgbench through the proxy vs direct vs PgBouncer
	bash bench/pgbench-proxy.sh

bench-audit: databases build ## throughput cost of the audit log: dbfence with vs without audit
	bash bench/audit-cost.sh

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

fuzz: ## run every fuzzer for a short while
	@for t in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
	  for f in $$(grep -h '^func Fuzz' $$t/*_test.go | sed 's/func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
	    echo "== $$t $$f"; $(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime 20s $$t || exit 1; \
	  done; done

clean: ## remove build output
	rm -rf bin
