package platform

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/awsid"
	"github.com/gangplank/gangplank/pkg/crossaccount"
	"github.com/gangplank/gangplank/pkg/cursor"
	"github.com/gangplank/gangplank/pkg/onboarding"
	"github.com/gangplank/gangplank/pkg/tables"
)

// Config is a function's typed configuration: the parts its Needs declare are set, the others are left empty.
type Config struct {
	Tables tables.Names
	// CursorKey signs pagination cursors. All instances must share it, or a cursor from one fails on another.
	CursorKey []byte
	// Claims names the token claims that carry the tenant and the role.
	Claims auth.Claims
	// ConnectorRoleARN is the role the platform assumes before assuming customers' roles (empty: act directly,
	// which only the local platform does).
	ConnectorRoleARN string
	Onboarding       onboarding.Config
	// QueueURLs maps queue IDs to the URLs of the queues the function sends to.
	QueueURLs map[string]string
	// StateMachineARN is the bulk activation workflow (empty: bulk activation is off).
	StateMachineARN string
	// Identity is where the IAM integrations keep their keys and schedule their delayed deletions.
	Identity IdentityConfig
}

// IdentityConfig configures the IAM integrations' keys and schedules.
type IdentityConfig struct {
	// SecretPrefix starts the name of every integration's secret; KMSKeyID encrypts them (needs.IdentityKeys
	// ReadWrite).
	SecretPrefix, KMSKeyID string
	// ScheduleGroup holds the delayed deletions' schedules, which assume ScheduleRoleARN to send to QueueARN (the
	// identity queue) (needs.Scheduler).
	ScheduleGroup, ScheduleRoleARN, QueueARN string
}

// PlatformAccounts are the AWS accounts the platform itself runs in, read from the ARNs of its own resources: the
// role customers trust (PLATFORM_PRINCIPAL_ARN), the connector role (CONNECTOR_ROLE_ARN) and the callback topics
// (CALLBACK_TOPIC_ARN_PATTERN). In the CDK stack all of them are in the stack's account; locally, in the local AWS's
// platform account. No tenant may link one (accounts.Service.Reserve). Every function that creates accounts (the
// API and discovery) is configured with these ARNs.
func (c Config) PlatformAccounts() []string {
	var ids []string
	for _, arn := range []string{c.Onboarding.PlatformPrincipal, c.ConnectorRoleARN, c.Onboarding.CallbackTopicPattern} {
		if a, err := awsid.ParseARN(arn); err == nil && awsid.CheckAccountID(a.AccountID) == nil && !slices.Contains(ids, a.AccountID) {
			ids = append(ids, a.AccountID)
		}
	}
	return ids
}

// SecretReader reads the cursor key's secret (Adapters.SecretReader).
type SecretReader = crossaccount.SecretReader

// LoadConfig reads, through getenv, the configuration a function with these needs uses, and nothing else:
//
//	TENANTS_TABLE, ACCOUNTS_TABLE, COSTS_TABLE, INVENTORY_TABLE  the tables in needs.Tables
//	CURSOR_KEY or CURSOR_KEY_SECRET_ARN         needs.CursorKey: the key (32+ bytes), or a secret holding it (read once, here)
//	TENANT_CLAIM, ROLE_CLAIM                    needs.Claims (default tenant_id, role)
//	CONNECTOR_ROLE_ARN                          needs.Customers
//	onboarding.ConfigFromEnv's variables        needs.Onboarding
//	COSTSYNC_QUEUE_URL, DISCOVERY_QUEUE_URL,   each queue needs.Queues sends to (Queue.EnvVar)
//	IDENTITY_QUEUE_URL, INVENTORY_QUEUE_URL
//	BULK_ACTIVATION_STATE_MACHINE_ARN           needs.Workflow
//	IDENTITY_SECRET_PREFIX, IDENTITY_KMS_KEY_ID needs.IdentityKeys ReadWrite
//	IDENTITY_SCHEDULE_GROUP, IDENTITY_SCHEDULE_ROLE_ARN, IDENTITY_QUEUE_ARN  needs.Scheduler
//
// Every problem is reported at once, so a misconfigured function fails its cold start with one clear message.
func LoadConfig(ctx context.Context, getenv func(string) string, secrets SecretReader, needs Needs) (Config, error) {
	var problems []string
	required := func(name string) string {
		v := getenv(name)
		if v == "" {
			problems = append(problems, name+" is not set")
		}
		return v
	}
	names, missing := tables.FromEnv(getenv, needs.tableList()...)
	for _, m := range missing {
		problems = append(problems, m+" is not set")
	}
	cfg := Config{Tables: names}
	if needs.Claims {
		cfg.Claims = auth.DefaultClaims
		if v := getenv("TENANT_CLAIM"); v != "" {
			cfg.Claims.Tenant = v
		}
		if v := getenv("ROLE_CLAIM"); v != "" {
			cfg.Claims.Role = v
		}
	}
	if needs.Customers {
		cfg.ConnectorRoleARN = required("CONNECTOR_ROLE_ARN")
	}
	if needs.Onboarding {
		if ob, err := onboarding.ConfigFromEnv(getenv); err != nil {
			problems = append(problems, err.Error())
		} else {
			cfg.Onboarding = ob
		}
	}
	for _, q := range Queues() {
		if needs.queue(q).Sends() {
			if cfg.QueueURLs == nil {
				cfg.QueueURLs = map[string]string{}
			}
			cfg.QueueURLs[q.ID] = required(q.EnvVar)
		}
	}
	if len(needs.Workflow) > 0 {
		cfg.StateMachineARN = required("BULK_ACTIVATION_STATE_MACHINE_ARN")
	}
	if needs.IdentityKeys == ReadWrite {
		cfg.Identity.SecretPrefix, cfg.Identity.KMSKeyID = required("IDENTITY_SECRET_PREFIX"), required("IDENTITY_KMS_KEY_ID")
	}
	if needs.Scheduler {
		cfg.Identity.ScheduleGroup, cfg.Identity.ScheduleRoleARN = required("IDENTITY_SCHEDULE_GROUP"), required("IDENTITY_SCHEDULE_ROLE_ARN")
		cfg.Identity.QueueARN = required("IDENTITY_QUEUE_ARN")
	}
	if needs.CursorKey {
		key, err := cursorKey(ctx, getenv, secrets)
		if err != nil {
			problems = append(problems, err.Error())
		}
		cfg.CursorKey = key
	}
	if len(problems) > 0 {
		return Config{}, errors.New("configuration: " + strings.Join(problems, "; "))
	}
	return cfg, nil
}

func cursorKey(ctx context.Context, getenv func(string) string, secrets SecretReader) ([]byte, error) {
	encoded := getenv("CURSOR_KEY")
	if arn := getenv("CURSOR_KEY_SECRET_ARN"); encoded == "" && arn != "" {
		if secrets == nil {
			return nil, errors.New("CURSOR_KEY_SECRET_ARN is set but no Secrets Manager client was given")
		}
		value, err := secrets.SecretValue(ctx, arn, crossaccount.StageCurrent)
		if err != nil {
			return nil, fmt.Errorf("read cursor key secret %s: %w", arn, err)
		}
		encoded = value
	}
	switch key := strings.TrimSpace(encoded); {
	case key == "":
		return nil, errors.New("CURSOR_KEY or CURSOR_KEY_SECRET_ARN is not set")
	case len(key) < cursor.MinKeyBytes:
		return nil, fmt.Errorf("the cursor key must have at least %d bytes", cursor.MinKeyBytes)
	default:
		return []byte(key), nil
	}
}

// For returns the part of a whole platform's configuration that a function with these needs is given (what the
// CDK app hands it): one process can then run each function with exactly its own wiring, as the local platform
// and the tests do.
func (c Config) For(n Needs) Config {
	out := Config{Tables: tables.Names{}}
	for _, t := range n.tableList() {
		if name, ok := c.Tables[t.ID]; ok {
			out.Tables[t.ID] = name
		}
	}
	if n.CursorKey {
		out.CursorKey = c.CursorKey
	}
	if n.Claims {
		out.Claims = c.Claims
	}
	if n.Customers {
		out.ConnectorRoleARN = c.ConnectorRoleARN
	}
	if n.Onboarding {
		out.Onboarding = c.Onboarding
	}
	for _, q := range Queues() {
		if url, ok := c.QueueURLs[q.ID]; ok && n.queue(q).Sends() {
			if out.QueueURLs == nil {
				out.QueueURLs = map[string]string{}
			}
			out.QueueURLs[q.ID] = url
		}
	}
	if len(n.Workflow) > 0 {
		out.StateMachineARN = c.StateMachineARN
	}
	if n.IdentityKeys == ReadWrite {
		out.Identity.SecretPrefix, out.Identity.KMSKeyID = c.Identity.SecretPrefix, c.Identity.KMSKeyID
	}
	if n.Scheduler {
		out.Identity.ScheduleGroup, out.Identity.ScheduleRoleARN, out.Identity.QueueARN = c.Identity.ScheduleGroup, c.Identity.ScheduleRoleARN, c.Identity.QueueARN
	}
	return out
}
