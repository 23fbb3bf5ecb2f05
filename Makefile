# Gangplank: connect customers' AWS accounts to your platform.
# `make local` runs everything on this machine; `make test` runs every check CI runs.

GO       ?= go
TENANT   ?= demo
ROLE     ?= admin
BENCHTIME ?= 50x

.PHONY: local token test test-go lint lint-templates bench tools

## local: run the whole platform on 127.0.0.1 (local AWS + API on :8080), printing an admin token
local:
	$(GO) run ./cmd/local

## token: print a bearer token for the local server (make token TENANT=acme ROLE=viewer)
token:
	@$(GO) run ./cmd/token -tenant '$(TENANT)' -role '$(ROLE)'

## test: every check: formatting, vet, the onboarding template (cfn-lint), unit and integration tests (against moto_server), fuzz seed corpora
test: lint lint-templates test-go

# The template customers deploy must be cfn-lint clean: no errors and no warnings (exit code 0).
lint-templates:
	cfn-lint --format parseable pkg/onboarding/templates/onboarding.yaml

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

test-go:
	$(GO) test -count=1 ./...

## bench: benchmarks against the local AWS, with DynamoDB/AWS call counts per operation
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime=$(BENCHTIME) ./...

help:
	@grep -E '^## ' Makefile | sed 's/^## //'
