# Gangplank: connect customers' AWS accounts to your platform.
# `make local` runs everything on this machine; `make test` runs every check CI runs.

GO       ?= go
TENANT   ?= demo
ROLE     ?= admin
BENCHTIME ?= 50x
CDK      ?= node_modules/.bin/cdk
CDK_FLAGS ?= --no-notices
SHELL    := /bin/bash

.PHONY: local token test test-go test-infra lint lint-templates bench tools synth diff deploy

## local: run the whole platform on 127.0.0.1 (local AWS + API on :8080), printing an admin token
local:
	$(GO) run ./cmd/local

## token: print a bearer token for the local server (make token TENANT=acme ROLE=viewer)
token:
	@$(GO) run ./cmd/token -tenant '$(TENANT)' -role '$(ROLE)'

## test: every check: formatting, vet, the onboarding template (cfn-lint), unit and integration tests (against moto_server), fuzz seed corpora, the CDK app (assertions, cdk-nag, cfn-lint, CLI synth)
test: lint lint-templates test-go test-infra

# The template customers deploy must be cfn-lint clean: no errors and no warnings (exit code 0).
lint-templates:
	cfn-lint --format parseable pkg/onboarding/templates/onboarding.yaml

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

# The infra tests run in test-infra, once.
test-go:
	$(GO) test -count=1 $$($(GO) list ./... | grep -v '/infra')

# The CDK app: Go assertion tests on the synthesized templates, cdk-nag AwsSolutions (zero unsuppressed findings),
# cfn-lint on every template, Lambda package sizes; then the pinned CLI synthesizes it as `make deploy` would.
test-infra: synth
	$(GO) test -count=1 -v ./infra/... 2>&1 | grep -Ev '^(=== RUN|!!)' ; exit $${PIPESTATUS[0]}

## synth: synthesize every stack into cdk.out, offline (fails on cdk-nag findings). Configuration: docs/deploy.md
synth: node_modules/.bin/cdk
	$(CDK) synth --quiet $(CDK_FLAGS)

## diff: compare the stacks with what is deployed (needs AWS credentials)
diff: node_modules/.bin/cdk
	$(CDK) diff --all $(CDK_FLAGS)

## deploy: deploy the platform stack, then the callback stack of every region (needs credentials, cdk bootstrap)
deploy: node_modules/.bin/cdk
	$(CDK) deploy --all --require-approval broadening $(CDK_FLAGS)

# The CDK CLI pinned in package-lock.json.
node_modules/.bin/cdk: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

## bench: benchmarks against the local AWS, with DynamoDB/AWS call counts per operation
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime=$(BENCHTIME) ./...

help:
	@grep -E '^## ' Makefile | sed 's/^## //'
