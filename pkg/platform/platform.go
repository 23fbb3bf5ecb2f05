// Package platform wires Gangplank together: it reads a function's typed configuration once per cold start and
// builds the services every entry point (Lambda functions, the local server, tests) shares, so that they differ
// only in where their AWS clients point and how callers are authenticated.
package platform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/gangplank/gangplank/pkg/accounts"
	"github.com/gangplank/gangplank/pkg/activation"
	"github.com/gangplank/gangplank/pkg/auth"
	"github.com/gangplank/gangplank/pkg/costsync"
	"github.com/gangplank/gangplank/pkg/crossaccount"
	"github.com/gangplank/gangplank/pkg/cursor"
	"github.com/gangplank/gangplank/pkg/discovery"
	"github.com/gangplank/gangplank/pkg/httpapi"
	"github.com/gangplank/gangplank/pkg/onboarding"
	"github.com/gangplank/gangplank/pkg/store"
	"github.com/gangplank/gangplank/pkg/tables"
	"github.com/gangplank/gangplank/pkg/tenants"
)

// Config is what every function that reads or writes Gangplank's data needs.
type Config struct {
	Tables tables.Names
	// CursorKey signs pagination cursors. All instances must share it, or a cursor from one fails on another.
	CursorKey []byte
	// Claims names the token claims that carry the tenant and the role.
	Claims auth.Claims
	// ConnectorRoleARN is the role the platform assumes before assuming customers' roles (empty: act directly).
	ConnectorRoleARN string
	Onboarding       onboarding.Config
	// CostSyncQueueURL is the queue of payers to sync (empty: sync in the caller, as the local runtime does).
	CostSyncQueueURL string
	// StateMachineARN is the bulk activation workflow (empty: bulk activation is off).
	StateMachineARN string
}

// SecretReader is the part of Secrets Manager the configuration loader uses.
type SecretReader interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, optFns ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// LoadConfig reads the configuration from the environment through getenv:
//
//	TENANTS_TABLE, ACCOUNTS_TABLE   table names (required)
//	CURSOR_KEY                      the secret that signs cursors (at least 32 bytes), or
//	CURSOR_KEY_SECRET_ARN           a Secrets Manager secret holding it (read once, here)
//	TENANT_CLAIM, ROLE_CLAIM        claim names (default tenant_id, role)
//	CONNECTOR_ROLE_ARN              the connector role (optional)
//	COSTSYNC_QUEUE_URL              the cost sync queue (optional: without it, syncs run in the caller)
//	BULK_ACTIVATION_STATE_MACHINE_ARN  the bulk activation workflow (optional)
//	and the onboarding settings of onboarding.ConfigFromEnv
//
// Every problem is reported at once, so a misconfigured function fails its cold start with one clear message.
func LoadConfig(ctx context.Context, getenv func(string) string, secrets SecretReader) (Config, error) {
	var problems []string
	names, missing := tables.FromEnv(getenv)
	for _, m := range missing {
		problems = append(problems, m+" is not set")
	}
	cfg := Config{Tables: names, Claims: auth.DefaultClaims, ConnectorRoleARN: getenv("CONNECTOR_ROLE_ARN"),
		CostSyncQueueURL: getenv("COSTSYNC_QUEUE_URL"), StateMachineARN: getenv("BULK_ACTIVATION_STATE_MACHINE_ARN")}
	if ob, err := onboarding.ConfigFromEnv(getenv); err != nil {
		problems = append(problems, err.Error())
	} else {
		cfg.Onboarding = ob
	}
	if v := getenv("TENANT_CLAIM"); v != "" {
		cfg.Claims.Tenant = v
	}
	if v := getenv("ROLE_CLAIM"); v != "" {
		cfg.Claims.Role = v
	}
	encoded := getenv("CURSOR_KEY")
	if arn := getenv("CURSOR_KEY_SECRET_ARN"); encoded == "" && arn != "" {
		if secrets == nil {
			problems = append(problems, "CURSOR_KEY_SECRET_ARN is set but no Secrets Manager client was given")
		} else {
			out, err := secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
			if err != nil {
				problems = append(problems, fmt.Sprintf("read cursor key secret %s: %v", arn, err))
			} else {
				encoded = aws.ToString(out.SecretString)
			}
		}
	}
	switch key := strings.TrimSpace(encoded); {
	case key == "":
		problems = append(problems, "CURSOR_KEY or CURSOR_KEY_SECRET_ARN is not set")
	case len(key) < cursor.MinKeyBytes:
		problems = append(problems, fmt.Sprintf("the cursor key must have at least %d bytes", cursor.MinKeyBytes))
	default:
		cfg.CursorKey = []byte(key)
	}
	if len(problems) > 0 {
		return Config{}, errors.New("configuration: " + strings.Join(problems, "; "))
	}
	return cfg, nil
}

// Services are the domain services, built once per cold start over one AWS configuration.
type Services struct {
	DB         store.DB
	Accounts   *accounts.Service
	Tenants    *tenants.Service
	Audit      store.AuditLog
	Connector  *crossaccount.Connector
	Door       *crossaccount.Door
	Onboarding *onboarding.Service
	CostSync   *costsync.Service
	Discovery  *discovery.Service
	Activation *activation.Service
}

// NewServices builds the services. now is the clock (time.Now in production).
func NewServices(awsCfg aws.Config, cfg Config, now func() time.Time) (*Services, error) {
	signer, err := cursor.NewSigner(cfg.CursorKey)
	if err != nil {
		return nil, err
	}
	db := store.DB{Client: dynamodb.NewFromConfig(awsCfg), Tables: cfg.Tables, Cursors: signer}
	t := tenants.NewService(store.Tenants{DB: db}, now)
	accts := accounts.NewService(store.Accounts{DB: db}, t, now)
	connector := crossaccount.New(awsCfg, cfg.ConnectorRoleARN)
	door := crossaccount.NewDoor(connector, accts, t, now)
	costs := &costsync.Service{Accounts: accts, Tenants: t, Store: store.Costs{DB: db}, Payers: store.Accounts{DB: db},
		Door: door, Now: now}
	if cfg.CostSyncQueueURL != "" {
		costs.Queue = costsync.SQSQueue{Client: sqs.NewFromConfig(awsCfg), URL: cfg.CostSyncQueueURL}
	} else {
		costs.Queue = costsync.InlineQueue{Service: costs}
	}
	disc := &discovery.Service{Accounts: accts, Store: store.Organizations{DB: db}, Door: door, Now: now,
		Managements: store.Accounts{DB: db}}
	ob := onboarding.NewService(cfg.Onboarding, accts, t, connector, store.Accounts{DB: db}, onboarding.NewHTTPResponder(), now)
	// A management account that becomes active has its organization discovered at once (after CloudFormation has
	// its answer); failures are recorded on the account and retried by the daily discovery.
	ob.AfterAnswer(func(ctx context.Context, a accounts.Account) {
		if a.Type != accounts.Management || a.Status != accounts.Active {
			return
		}
		if _, err := disc.Discover(ctx, a.TenantID, a.AccountID); err != nil {
			slog.WarnContext(ctx, "discovery after activation failed", "managementAccountId", a.AccountID, "error", err.Error())
		}
	})
	act := &activation.Service{Store: store.Activations{DB: db}, Accounts: accts, Tenants: t, Links: ob, Door: door,
		StepFunctions: sfn.NewFromConfig(awsCfg), StateMachineARN: cfg.StateMachineARN, Now: now}
	disc.Enroller = act
	// Bulk activation waits on the callbacks of the accounts it started.
	ob.Observe(act)
	return &Services{
		DB:         db,
		Tenants:    t,
		Accounts:   accts,
		Audit:      store.AuditLog{DB: db},
		Connector:  connector,
		Door:       door,
		Onboarding: ob,
		CostSync:   costs,
		Discovery:  disc,
		Activation: act,
	}, nil
}

// NewAPI builds the HTTP API over the services, authenticating callers with authn.
func NewAPI(s *Services, authn auth.Authenticator) *httpapi.API {
	return httpapi.New(httpapi.Config{
		Accounts: s.Accounts, Tenants: s.Tenants, Audit: s.Audit, Onboarding: s.Onboarding, CostSync: s.CostSync, Discovery: s.Discovery, Activation: s.Activation,
		Cursors: s.DB.Cursors, Authenticator: authn,
	})
}
