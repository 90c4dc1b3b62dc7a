# Quercus: one static binary per service.
GO       ?= go
BINARIES := $(notdir $(wildcard cmd/*))
GOFLAGS_BUILD := -trimpath -ldflags='-s -w -buildid='
STATICCHECK_VERSION := v0.8.2
FUZZTIME ?= 10s

.PHONY: all build test check peers bench bench-dns fuzz lint deps clean

all: build

build:
	@mkdir -p bin
	CGO_ENABLED=0 $(GO) build $(GOFLAGS_BUILD) -o bin/ ./cmd/...

# make test: install missing peers, static checks, then every test against
# real peers. CI runs exactly this.
test: peers check
	QUERCUS_INTEROP=1 $(GO) test -race -timeout 15m ./...

check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

peers:
	@./scripts/install-test-peers

# make bench: every benchmark once, against real peers where it compares.
bench: peers
	QUERCUS_INTEROP=1 $(GO) test -run '^$$' -bench . -benchmem -benchtime 3x ./...
	QUERCUS_INTEROP=1 $(GO) run ./bench/figures -go $(GO)
	QUERCUS_INTEROP=1 $(GO) run ./bench/caldav -go $(GO)
	QUERCUS_INTEROP=1 $(GO) run ./bench/dns -go $(GO)

# make bench-dns: DNS serving speed beside nsd and knotd (bench/README.md).
bench-dns: peers
	QUERCUS_INTEROP=1 $(GO) run ./bench/dns -go $(GO)

# make fuzz: each fuzz target for FUZZTIME.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

lint:
	@command -v staticcheck >/dev/null || $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	PATH="$$PATH:$$($(GO) env GOPATH)/bin" staticcheck ./...

# make deps: rewrite each binary's checked-in dependency list after a
# deliberate change; internal/deptest fails when they drift.
deps:
	$(GO) test ./internal/deptest -update

clean:
	rm -rf bin
