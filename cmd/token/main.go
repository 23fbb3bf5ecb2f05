// Command token prints a bearer token that the local server accepts (make token TENANT=acme ROLE=viewer).
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/devserver"
)

func main() {
	tenant := flag.String("tenant", "demo", "tenant ID (the tenant_id claim)")
	role := flag.String("role", "admin", "admin or viewer")
	sub := flag.String("sub", "", "subject (default <tenant>-<role>)")
	ttl := flag.Duration("ttl", 24*time.Hour, "validity")
	state := flag.String("state", ".local", "directory holding the local signing key")
	flag.Parse()
	if r := auth.Role(*role); r != auth.Admin && r != auth.Viewer {
		fail(fmt.Errorf("role must be admin or viewer, not %q", *role))
	}
	if !auth.ValidTenantID(*tenant) {
		fail(fmt.Errorf("tenant %q is not a valid tenant ID (letters, digits, . _ -; at most 64)", *tenant))
	}
	if *sub == "" {
		*sub = *tenant + "-" + *role
	}
	key, err := devserver.SigningKey(*state)
	if err != nil {
		fail(err)
	}
	tok, err := devserver.LocalIssuer(key).Token(*sub, *tenant, auth.Role(*role), *ttl, time.Now())
	if err != nil {
		fail(err)
	}
	fmt.Println(tok)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "token:", err)
	os.Exit(2)
}
