# flowaudit build, test and benchmark targets. `make help` lists them.
GO        ?= go
PKGS      := ./...
STATICCHECK_VERSION ?= v0.8.2
BIN       := bin/flowaudit

.PHONY: help build test check fmt vet staticcheck bench bench-go pgo fuzz generate golden clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/flowaudit
	$(GO) build -trimpath -buildvcs=auto -o $(BIN) ./cmd/flowaudit

test: ## go vet and the race-enabled test suite
	$(GO) vet $(PKGS)
	$(GO) test -race $(PKGS)

check: fmt vet staticcheck ## gofmt, go vet, staticcheck, then the race-enabled tests
	$(GO) test -race $(PKGS)

fmt: ## fail if any file needs gofmt
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

staticcheck: ## staticcheck, fetched through the module proxy at a pinned version
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) $(PKGS)

bench-go: ## the Go benchmarks of the per-packet path
	$(GO) test -run '^$$' -bench . -benchmem ./analyzer/...

bench: build ## end-to-end benchmark on a generated 4M-packet capture, against tshark and argus
	bash scripts/bench.sh

pgo: ## regenerate cmd/flowaudit/default.pgo, the profile go build optimises flowaudit from
	bash scripts/pgo.sh

fuzz: ## a short run of every fuzz target
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime 20s $$pkg || exit 1; \
	  done; \
	done

generate: ## regenerate every capture under testdata/ from the generator
	$(GO) run ./cmd/pcapgen -kind generate-all

golden: ## refresh golden files after an intended change
	$(GO) test $(PKGS) -update

clean:
	rm -rf bin
