# remerge: build, test and run targets. `make help` lists them.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

# Go lives in /usr/local/go/bin on the project machines; a go already on
# PATH wins.
export PATH := $(PATH):/usr/local/go/bin

GO          ?= go
BIN         := bin/remerge
DEMO_BIN    := bin/remerge-demo
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME    ?= 15s
PKGS        ?= ./...
FUZZ_TARGETS := ./internal/release:FuzzParseMatrix ./internal/release:FuzzParseKeepalive ./inspect:FuzzReadDigestsDir

# The real tools the tests use as oracles, pinned (internal/testkit/tools has the
# same versions; a test checks they agree). `make tools` installs each with
# `go install` into TOOLS_DIR once and reuses it; the tests find them
# through REMERGE_<NAME>.
TOOLS_DIR          ?= $(HOME)/.cache/remerge-tools
BUILDX_MODULE      := github.com/docker/buildx/cmd/buildx
BUILDX_VERSION     := v0.36.1
COSIGN_MODULE      := github.com/sigstore/cosign/v2/cmd/cosign
COSIGN_VERSION     := v2.4.1
ACTIONLINT_MODULE  := github.com/rhysd/actionlint/cmd/actionlint
ACTIONLINT_VERSION := v1.7.12
BUILDX     := $(TOOLS_DIR)/buildx-$(BUILDX_VERSION)/buildx
COSIGN     := $(TOOLS_DIR)/cosign-$(COSIGN_VERSION)/cosign
ACTIONLINT := $(TOOLS_DIR)/actionlint-$(ACTIONLINT_VERSION)/actionlint
export REMERGE_BUILDX     := $(BUILDX)
export REMERGE_COSIGN     := $(COSIGN)
export REMERGE_ACTIONLINT := $(ACTIONLINT)

.PHONY: help build test run bench lint fuzz clean tools

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-6s %s\n", $$1, $$2}'

build: ## build bin/remerge and bin/remerge-demo
	$(GO) build -o $(BIN) ./cmd/remerge
	$(GO) build -o $(DEMO_BIN) ./cmd/remerge-demo

tools: $(BUILDX) $(COSIGN) $(ACTIONLINT) ## install the pinned buildx, cosign and actionlint into TOOLS_DIR (once)

$(BUILDX):
	@echo "tools: installing $(BUILDX_MODULE)@$(BUILDX_VERSION) (once; about 10 minutes on 2 cores)"
	GOBIN=$(dir $@) CGO_ENABLED=0 $(GO) install $(BUILDX_MODULE)@$(BUILDX_VERSION)

$(COSIGN):
	@echo "tools: installing $(COSIGN_MODULE)@$(COSIGN_VERSION) (once; about 10 minutes on 2 cores)"
	GOBIN=$(dir $@) CGO_ENABLED=0 $(GO) install $(COSIGN_MODULE)@$(COSIGN_VERSION)

$(ACTIONLINT):
	@echo "tools: installing $(ACTIONLINT_MODULE)@$(ACTIONLINT_VERSION) (once)"
	GOBIN=$(dir $@) CGO_ENABLED=0 $(GO) install $(ACTIONLINT_MODULE)@$(ACTIONLINT_VERSION)

# test installs the pinned tools (once), runs vet, then every test with the
# race detector. The full verbose log goes to bin/test.log; the screen gets
# each package's result as go test prints it (in package order, so a slow
# package holds back the lines after it), failure messages, test logs, and a
# closing count that CI reads. PKGS narrows it: make test PKGS=./cmd/...
test: tools ## install the pinned tools, then go vet + go test -race, streamed, with a summary
	@mkdir -p bin
	$(GO) vet $(PKGS)
	@rm -f bin/test.status; \
	{ $(GO) test -race -v $(PKGS) 2>&1; echo $$? > bin/test.status; } \
		| tee bin/test.log \
		| grep --line-buffered -vE '^[ \t]*(=== (RUN|PAUSE|CONT|NAME)|--- (PASS|SKIP)|PASS$$|FAIL$$|\?[ \t])' || true; \
	status=$$(cat bin/test.status 2>/dev/null || echo 1); \
	passed=$$(grep -cE '^\s*--- PASS' bin/test.log || true); \
	failed=$$(grep -cE '^\s*--- FAIL' bin/test.log || true); \
	skipped=$$(grep -cE '^\s*--- SKIP' bin/test.log || true); \
	if [ $$status -ne 0 ]; then echo "test: FAILED (exit $$status); full log in bin/test.log"; fi; \
	echo "tests: $$passed passed, $$failed failed, $$skipped skipped"; \
	exit $$status

# The demo is its own binary: it runs registry servers, which bin/remerge
# does not link (cmd/remerge/depcheck_test.go).
run: build ## build, then open the demo (loopback registries, a broken release)
	./$(DEMO_BIN)

# bench measures inspect on a LocalAI-sized release (386 backends, 457 legs)
# behind a latency proxy, the crane loop doing the same HEADs, and a
# same-registry re-merge; it writes bench/results.md (see bench/README.md).
bench: tools ## measure inspect vs the bound and a crane loop, a re-merge; write bench/results.md
	$(GO) test ./bench -run '^TestResults$$' -count=1 -timeout 45m -v -args -results bench/results.md

lint: ## gofmt check, go vet, staticcheck when it resolves
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './bin/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	@if $(GO) run $(STATICCHECK) -version >/dev/null 2>&1; then \
		$(GO) run $(STATICCHECK) ./...; \
	else echo "lint: staticcheck ($(STATICCHECK)) did not resolve; skipped"; fi

fuzz: ## run each fuzz target (package:Fuzz...) for FUZZTIME (default 15s)
	@set -e; for t in $(FUZZ_TARGETS); do \
		p=$${t%%:*}; f=$${t#*:}; \
		echo "fuzz: $$f in $$p for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) $$p; \
	done

clean: ## remove build output
	rm -rf bin
