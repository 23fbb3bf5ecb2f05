# Gangplank: connect customers' AWS accounts to your platform.
# `make local` runs everything on this machine; `make test` runs every check CI runs.

GO       ?= go
TENANT   ?= demo
ROLE     ?= admin
BENCHTIME ?= 50x

.PHONY: local token test test-go test-console console lint lint-templates lint-statemachines bench coldstart tools synth diff deploy

## local: run the whole platform on 127.0.0.1 (local AWS, API on :8080, web console on :8081), printing an admin token
local: console
	$(GO) run ./cmd/local

## token: print a bearer token for the local server (make token TENANT=acme ROLE=viewer)
token:
	@$(GO) run ./cmd/token -tenant '$(TENANT)' -role '$(ROLE)'

## test: every check: formatting, vet, the onboarding template (cfn-lint), the state machines (asl-validator), the web console (build, unit tests, every flow end to end in headless Chromium), unit and integration tests (against moto_server), fuzz seed corpora
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

# The product (./...) and the CDK app (infra/, its own Go module so that the product never compiles jsii) are tested
# in turn.
# No package may fail for being slow on a busy machine: each test binary gets 45 minutes rather than go test's 10.
test-go:
	$(GO) test -count=1 -timeout 45m ./...
	cd infra && $(GO) test -count=1 -timeout 45m ./...

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
