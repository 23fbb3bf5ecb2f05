package awsx

import (
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// LambdaConfig is the AWS configuration of a function running in Lambda, read from what Lambda puts in its
// environment: the region (AWS_REGION) and the execution role's credentials (AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN). There, that is what config.LoadDefaultConfig resolves too; but that
// package links every credential provider it might try (SSO, SSO OIDC and sign-in clients, IMDS, processes,
// container endpoints), and their SDK packages' init alone cost a cold start about 3 ms, a fifth of a hello-world
// function's whole start (docs/deploy.md, Cold start). Service clients fill in the rest (retryer, HTTP client,
// endpoints) as they do for any configuration.
func LambdaConfig(getenv func(string) string) (aws.Config, error) {
	region := getenv("AWS_REGION")
	id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	var missing []string
	for _, v := range []struct{ name, value string }{{"AWS_REGION", region}, {"AWS_ACCESS_KEY_ID", id}, {"AWS_SECRET_ACCESS_KEY", secret}} {
		if v.value == "" {
			missing = append(missing, v.name)
		}
	}
	if len(missing) > 0 {
		return aws.Config{}, errors.New(strings.Join(missing, ", ") + " not set: Lambda sets them for every function (is this running in Lambda?)")
	}
	return aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN"))),
	}, nil
}
