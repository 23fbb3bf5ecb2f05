package testkit

import (
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// SDKService names an AWS SDK service's packages (its root, /types, /schemas, /internal/...).
func SDKService(name string) string { return "github.com/aws/aws-sdk-go-v2/service/" + name }

// NotLinked fails the test when the package in the test's directory links any of the packages banned (or one
// under them), as go list -deps (the linker's view, without the tests) lists them, or does not link calls (a
// package it does use: the list must be the package's). Every package linked runs its init at each cold start of
// every function that links it (issue 12 §4): a domain package keeps the AWS SDK services only some of its
// functions call in its adapters (pkg/<domain>/aws<service>).
func NotLinked(t *testing.T, calls string, banned ...string) {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list the package's dependencies: %v", err)
	}
	list := exec.Command(goCmd, "list", "-deps", "-f", "{{.ImportPath}}", ".")
	var stderr bytes.Buffer
	list.Stderr = &stderr
	out, err := list.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 || !strings.HasPrefix(deps[len(deps)-1], "github.com/gangplank/gangplank/") {
		t.Fatalf("go list -deps did not end with the package itself: %q", out)
	}
	for _, dep := range deps {
		for _, b := range banned {
			if dep == b || strings.HasPrefix(dep, b+"/") {
				t.Errorf("%s links %s", deps[len(deps)-1], dep)
			}
		}
	}
	if !slices.Contains(deps, calls) {
		t.Errorf("%s does not link %s, which it calls: the list is not the package's", deps[len(deps)-1], calls)
	}
}
