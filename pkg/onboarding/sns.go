package onboarding

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// HandleSNS is the callback Lambda's handler: each record is a custom resource request (JSON) or a stack
// notification (CloudFormation's Key='value' text). Records are independent; the error returned (if any) joins the
// failures that a retry may fix, so the invocation is retried and the idempotent handlers repeat themselves safely.
func (s *Service) HandleSNS(ctx context.Context, e events.SNSEvent) error {
	var errs []error
	for _, r := range e.Records {
		msg := r.SNS.Message
		switch {
		case strings.HasPrefix(strings.TrimSpace(msg), "{"):
			var req CustomResourceRequest
			if err := json.Unmarshal([]byte(msg), &req); err != nil || req.RequestType == "" {
				reject(ctx, rejectMalformed, "SNS message is JSON but not a custom resource request; ignored", "messageId", r.SNS.MessageID)
				continue
			}
			errs = append(errs, s.HandleCustomResource(ctx, r.SNS.TopicArn, req))
		default:
			ev, ok := ParseStackEvent(msg)
			if !ok {
				reject(ctx, rejectMalformed, "SNS message is neither a custom resource request nor a stack notification; ignored",
					"messageId", r.SNS.MessageID, "subject", reported(r.SNS.Subject, 100))
				continue
			}
			errs = append(errs, s.HandleStackEvent(ctx, r.SNS.TopicArn, ev))
		}
	}
	return errors.Join(errs...)
}
