# remerge: build, test and run targets. `make help` lists them.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

# Go lives in /usr/local/go/bin on the project machines; a go already on
# PATH wins.
export PATH := $(PATH):/usr/local/go/bin

GO          ?= go
BIN         := bin/remerge
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME    ?= 15s
PKGS        ?= ./...
FUZZ_TARGETS := FuzzParseMatrix FuzzParseKeepalive FuzzReadDigestsDir

.PHONY: help build test run bench lint fuzz clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-6s %s\n", $$1, $$2}'

build: ## build bin/remerge
	$(GO) build -o $(BIN) ./cmd/remerge

# test runs vet, then every test with the race detector. The full verbose
# log goes to bin/test.log; the screen gets each package's result as go
# test prints it (in package order, so a slow package holds back the lines
# after it), failure messages, test logs, and a closing count that CI reads.
# The whole suite takes 4-12 minutes on 2 cores. PKGS narrows it:
# make test PKGS=./cmd/...
test: ## go vet + go test -race, streamed, with a summary
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

run: build ## build, then open the demo (loopback registries, a broken release)
	./$(BIN) demo

# bench measures inspect on a LocalAI-sized release (386 backends, 457 legs)
# behind a latency proxy, the crane loop doing the same HEADs, and a
# same-registry re-merge; it writes bench/results.md (see bench/README.md).
bench: ## measure inspect vs the bound and a crane loop, a re-merge; write bench/results.md
	$(GO) test ./bench -run '^TestResults$$' -count=1 -timeout 20m -v -args -results bench/results.md

lint: ## gofmt check, go vet, staticcheck when it resolves
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './bin/*')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	@if $(GO) run $(STATICCHECK) -version >/dev/null 2>&1; then \
		$(GO) run $(STATICCHECK) ./...; \
	else echo "lint: staticcheck ($(STATICCHECK)) did not resolve; skipped"; fi

fuzz: ## run each fuzz target of ./inspect for FUZZTIME (default 15s)
	@for f in $(FUZZ_TARGETS); do \
		echo "fuzz: $$f for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) ./inspect; \
	done

clean: ## remove build output
	rm -rf bin
