# Gangplank: connect customers' AWS accounts to your platform.
# `make local` runs everything on this machine; `make test` runs every check CI runs.

GO       ?= go
TENANT   ?= demo
ROLE     ?= admin
BENCHTIME ?= 50x

.PHONY: local token test test-go test-console console test-terraform terraform-provider terraform-cli lint lint-templates lint-statemachines bench coldstart tools synth diff deploy

## local: run the whole platform on 127.0.0.1 (local AWS, API on :8080, web console on :8081), printing an admin token
local: console
	$(GO) run ./cmd/local

## token: print a bearer token for the local server (make token TENANT=acme ROLE=viewer)
token:
	@$(GO) run ./cmd/token -tenant '$(TENANT)' -role '$(ROLE)'

## test: every check: formatting, vet, the onboarding template (cfn-lint), the state machines (asl-validator), the web console (build, unit tests, every flow end to end in headless Chromium), unit and integration tests (against moto_server), fuzz seed corpora, the Terraform provider's acceptance tests
test: lint lint-templates lint-statemachines test-console test-go

# The Step Functions definitions must be valid Amazon States Language (moto accepts invalid ASL, AWS does not).
lint-statemachines: .tools/node_modules/.package-lock.json
	for f in statemachines/*.asl.json; do .tools/node_modules/.bin/asl-validator --json-path "$$f" || exit 1; done

# The template customers deploy must be cfn-lint clean: no errors and no warnings (exit code 0).
lint-templates:
	cfn-lint --format parseable pkg/onboarding/templates/onboarding.yaml

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	cd infra && $(GO) vet ./...
	cd terraform && $(GO) vet ./...

# The product (./...), the CDK app (infra/, its own Go module so that the product never compiles jsii) and the
# Terraform provider (terraform/, its own module too; test-terraform below) are tested in turn.
# No package may fail for being slow on a busy machine: each test binary gets 45 minutes rather than go test's 10.
test-go:
	$(GO) test -count=1 -timeout 45m ./...
	cd infra && $(GO) test -count=1 -timeout 45m ./...
	$(MAKE) test-terraform

# The Terraform provider is its own Go module too (terraform/go.mod, replace ../), so the product never compiles the
# plugin framework; its acceptance tests start a local Gangplank through pkg/testkit.
TF_PROVIDER ?= bin/terraform-provider-gangplank

## terraform-provider: build the Terraform provider into bin/ (see docs/terraform.md to use it before it is published)
terraform-provider:
	cd terraform && $(GO) build -o ../$(TF_PROVIDER) .

# The CLI the acceptance tests run: TF_ACC_TERRAFORM_PATH, else terraform or tofu on PATH, else OpenTofu built from the
# Go module proxy into the cache (GANGPLANK_CACHE, default ~/.cache/gangplank; about 6 minutes on 2 cores, once).
TOFU_VERSION    ?= v1.10.6
GANGPLANK_CACHE ?= $(HOME)/.cache/gangplank
TOFU            := $(GANGPLANK_CACHE)/opentofu-$(TOFU_VERSION)/tofu

## terraform-cli: make sure the provider's tests have a Terraform CLI (builds OpenTofu $(TOFU_VERSION) into $(GANGPLANK_CACHE) if none)
terraform-cli:
	@if [ -n "$$TF_ACC_TERRAFORM_PATH" ] || command -v terraform >/dev/null 2>&1 || command -v tofu >/dev/null 2>&1 || [ -x "$(TOFU)" ]; then \
	  exit 0; \
	fi; \
	echo "no Terraform CLI: building OpenTofu $(TOFU_VERSION) from the Go module proxy into $(TOFU)"; \
	dir=$$($(GO) mod download -json github.com/opentofu/opentofu@$(TOFU_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	[ -n "$$dir" ] || { echo "could not download github.com/opentofu/opentofu@$(TOFU_VERSION)"; exit 1; }; \
	mkdir -p "$(dir $(TOFU))" && cd "$$dir" && \
	GOFLAGS=-mod=mod $(GO) build -ldflags "-X github.com/opentofu/opentofu/version.dev=no" -o "$(TOFU).tmp" ./cmd/tofu && \
	mv "$(TOFU).tmp" "$(TOFU)" && "$(TOFU)" version

## test-terraform: the provider's acceptance tests (terraform-plugin-testing, TF_ACC=1) against a local Gangplank, with a real CLI
test-terraform: terraform-cli
	cd terraform && TF_ACC=1 $(GO) test -count=1 -timeout 45m ./...

## bench: every benchmark against the local AWS, with DynamoDB/AWS call counts per operation: first all but the
## scale ones ($(BENCHTIME) each), then the scale ones (discovery of 5,000 accounts, activation of 1,000 with 100 stacks
## in flight), once each: GANGPLANK_BENCH_ACCOUNTS / _ACTIVATIONS / _IN_FLIGHT resize them
bench:
	$(GO) test -run '^$$' -bench . -skip '^BenchmarkScale' -benchmem -benchtime=$(BENCHTIME) -timeout 60m ./...
	$(GO) test -run '^$$' -bench '^BenchmarkScale' -benchtime=1x -timeout 90m ./...
	$(MAKE) coldstart

## coldstart: each function's init (exec to its first request for work on a stand-in Lambda Runtime API), median of
## 25 starts, beside a hello-world aws-lambda-go function built with the same flags; and each package's zipped size
coldstart:
	$(GO) run ./cmd/coldstart -runs 25

# The web console (console/): npm dependencies from its lock file; types and client generated from
# pkg/httpapi/openapi.yaml at build time, so a contract change that breaks the console breaks this build.
console/node_modules/.package-lock.json: console/package.json console/package-lock.json
	cd console && npm ci --no-audit --no-fund

## console: build the web console into console/dist (make local serves it; the CDK app deploys it)
console: console/node_modules/.package-lock.json
	cd console && npm run build

# The console's unit tests (Vitest), then every flow end to end in headless Chromium (/usr/bin/chromium, or
# $$CHROMIUM) against make local's platform, started on free ports. Screenshots of every screen at 1280 and 390 px,
# and the figures (first-load JavaScript, time to the accounts table, flows covered), land in console/test-results/.
test-console: console
	rm -rf console/test-results
	mkdir -p console/test-results/screenshots
	cd console && npm run test:unit
	cd console && npm run test:e2e
	cd console && node e2e/firstload.mjs

# The CDK CLI is pinned in .tools/package.json (a 2.x release that reads this CDK library's cloud assembly). It lives
# in a dot-directory so that its node_modules stays out of the Go module's ./... pattern.
CDK ?= .tools/node_modules/.bin/cdk

.tools/node_modules/.package-lock.json: .tools/package.json .tools/package-lock.json
	cd .tools && npm ci --no-audit --no-fund

## synth: synthesize the CloudFormation templates offline into cdk.out/ (fails on unsuppressed cdk-nag findings)
synth: .tools/node_modules/.package-lock.json console
	$(CDK) synth -q

## diff: compare the app with what is deployed (needs AWS credentials)
diff: .tools/node_modules/.package-lock.json console
	$(CDK) diff --all

## deploy: deploy every stack (needs AWS credentials and `cdk bootstrap` in each region; see docs/deploy.md)
deploy: .tools/node_modules/.package-lock.json console
	$(CDK) deploy --all --require-approval broadening

help:
	@grep -E '^## ' Makefile | sed 's/^## //'
