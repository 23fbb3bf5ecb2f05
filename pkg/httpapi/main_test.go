package httpapi_test

import (
	"testing"

	"github.com/gangplank/gangplank/pkg/testkit"
)

func TestMain(m *testing.M) {
	// This package exercises the whole API, so it also proves every documented operation is tested.
	testkit.RequireFullCoverage()
	testkit.Main(m)
}
