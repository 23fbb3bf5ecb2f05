package testkit

import (
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// Linked lists the packages a package links, itself included (go list -deps, the linker's view).
func Linked(t *testing.T, pkg string) []string {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to list %s's dependencies: %v", pkg, err)
	}
	list := exec.Command(goCmd, "list", "-deps", pkg)
	var stderr bytes.Buffer
	list.Stderr = &stderr
	out, err := list.Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", pkg, err, stderr.String())
	}
	return strings.Fields(string(out))
}

// AssertLinksNone fails the test if pkg links any of the packages banned or a package below one of them, and if
// witness (a package that does link them) does not: that would mean the listing is not what it seems.
func AssertLinksNone(t *testing.T, pkg, witness string, banned ...string) {
	t.Helper()
	matches := func(dep string) bool {
		for _, b := range banned {
			if dep == b || strings.HasPrefix(dep, b+"/") {
				return true
			}
		}
		return false
	}
	for _, dep := range Linked(t, pkg) {
		if matches(dep) {
			t.Errorf("%s links %s", pkg, dep)
		}
	}
	witnessed := Linked(t, witness)
	for _, b := range banned {
		if !slices.Contains(witnessed, b) {
			t.Errorf("%s does not link %s either: the listing proves nothing", witness, b)
		}
	}
}
