package localaws_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/gangplank/gangplank/pkg/testkit"
)

// TestVirtualMFADevicePolicies: IAM authorizes CreateVirtualMFADevice and DeleteVirtualMFADevice against the
// device (arn:aws:iam::<account>:mfa/<path><name>, which is also the serial), not against a user: a policy that
// allows them on mfa/* lets an offboarding delete a user's device; one limited to other devices does not. (The
// edge authorized both against no resource at all, so no statement with a Resource other than "*" allowed them.)
func TestVirtualMFADevicePolicies(t *testing.T) {
	ctx := t.Context()
	const account = "750987654321"
	root := testkit.LocalAWS(t).AccountIAM(account)
	manager := newUser(t, account, "/", nil, policy(map[string]any{"Effect": "Allow",
		"Action": []string{"iam:CreateVirtualMFADevice", "iam:DeleteVirtualMFADevice"}, "Resource": "arn:aws:iam::*:mfa/team-*"}))
	mine := iam.NewFromConfig(manager.cfg)

	created, err := mine.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("team-dana")})
	if err != nil {
		t.Fatalf("create a device the policy names: %v", err)
	}
	if _, err := mine.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: created.VirtualMFADevice.SerialNumber}); err != nil {
		t.Errorf("delete a device the policy names: %v", err)
	}

	want := "User: " + manager.arn + " is not authorized to perform: iam:CreateVirtualMFADevice on resource: arn:aws:iam::" + account +
		":mfa/other-erin because no identity-based policy allows the iam:CreateVirtualMFADevice action"
	_, err = mine.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("other-erin")})
	if code, msg := apiError(err); code != "AccessDenied" || msg != want {
		t.Errorf("create another device: %s %q\nwant AccessDenied %q", code, msg, want)
	}
	other, err := root.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("other-frank")})
	if err != nil {
		t.Fatal(err)
	}
	serial := aws.ToString(other.VirtualMFADevice.SerialNumber)
	want = "User: " + manager.arn + " is not authorized to perform: iam:DeleteVirtualMFADevice on resource: " + serial +
		" because no identity-based policy allows the iam:DeleteVirtualMFADevice action"
	_, err = mine.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: aws.String(serial)})
	if code, msg := apiError(err); code != "AccessDenied" || msg != want {
		t.Errorf("delete another device: %s %q\nwant AccessDenied %q", code, msg, want)
	}
}
