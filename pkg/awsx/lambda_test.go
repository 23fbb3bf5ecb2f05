package awsx_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gangplank/gangplank/pkg/awsx"
)

func TestLambdaConfig(t *testing.T) {
	env := map[string]string{"AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_SESSION_TOKEN": "token"}
	cfg, err := awsx.LambdaConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" || creds.AccessKeyID != "ASIAEXAMPLE" || creds.SecretAccessKey != "secret" || creds.SessionToken != "token" {
		t.Errorf("config = region %q, credentials %+v; want Lambda's environment", cfg.Region, creds)
	}

	tests := []struct {
		name, unset, want string
	}{
		{"no region", "AWS_REGION", "AWS_REGION not set"},
		{"no access key", "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID not set"},
		{"no secret", "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY not set"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := awsx.LambdaConfig(func(k string) string {
				if k == tc.unset {
					return ""
				}
				return env[k]
			})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
}
