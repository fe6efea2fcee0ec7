package ec2sim_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/afisync/afisync/ec2sim"
)

// stsClient is a real STS client of the simulator, signing with akid.
func (e *env) sts(akid string) *sts.Client {
	return sts.New(sts.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(e.srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(akid, "secret", ""),
		HTTPClient:   e.srv.Client(),
	})
}

// TestAssumeRole assumes a role in another account through the SDK's own
// provider (stscreds, cached), and checks that EC2 calls signed with the
// session's credentials act as the role's account.
func TestAssumeRole(t *testing.T) {
	const role = "arn:aws:iam::" + acctC + ":role/ci/afisync"
	// The SDK's cache judges expiry by the real clock: the simulator's
	// starts at the real time, so that the session lasts.
	now := time.Now().UTC().Truncate(time.Second)
	e := newEnv(t, ec2sim.Options{Clock: ec2sim.NewManualClock(now), ExternalIDs: map[string]string{role: "fleet-7f3a"}})
	mine := e.add(ec2sim.Image{Region: "us-east-1", Account: acctC, Name: "role-account's"})
	e.add(ec2sim.Image{Region: "us-east-1", Account: acctB, Name: "caller's"})

	provider := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(e.sts("AKIDB"), role, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "afisync-fleet"
		o.ExternalID = aws.String("fleet-7f3a")
		o.Duration = 2 * time.Hour
	}))
	creds, err := provider.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(creds.AccessKeyID, "ASIA"+acctC) || len(creds.AccessKeyID) != 20 || creds.SessionToken == "" || creds.SecretAccessKey == "" {
		t.Errorf("credentials %+v", creds)
	}
	if want := now.Add(2 * time.Hour); !creds.CanExpire || !creds.Expires.Equal(want) {
		t.Errorf("expires %v (can expire %v), want %v", creds.Expires, creds.CanExpire, want)
	}

	c := ec2.New(ec2.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.srv.URL), Credentials: provider, HTTPClient: e.srv.Client()})
	out, err := c.DescribeFpgaImages(ctx, &ec2.DescribeFpgaImagesInput{Owners: []string{"self"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.FpgaImages) != 1 || aws.ToString(out.FpgaImages[0].FpgaImageId) != mine.ID {
		t.Errorf("the role's session sees %+v, want only %s (owned by %s)", out.FpgaImages, mine.ID, acctC)
	}

	st := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.srv.URL), Credentials: provider, HTTPClient: e.srv.Client()})
	id, err := st.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(id.Account) != acctC || aws.ToString(id.Arn) != "arn:aws:sts::"+acctC+":assumed-role/afisync/afisync-fleet" ||
		!strings.HasSuffix(aws.ToString(id.UserId), ":afisync-fleet") {
		t.Errorf("GetCallerIdentity of the session: %+v", id)
	}
	if n := e.sim.Stats().Count("AssumeRole", "us-east-1", "ok"); n != 1 {
		t.Errorf("%d AssumeRole calls, want 1 (the cache keeps the session)", n)
	}
}

// TestAssumeRoleRefused: every refusal AWS words as AccessDenied, and the
// parameters STS checks itself.
func TestAssumeRoleRefused(t *testing.T) {
	const (
		role    = "arn:aws:iam::" + acctC + ":role/afisync"
		denied  = "arn:aws:iam::999999999999:role/afisync"
		caller  = "arn:aws:iam::" + acctB + ":user/ec2sim"
		refusal = "User: " + caller + " is not authorized to perform: sts:AssumeRole on resource: "
	)
	e := newEnv(t, ec2sim.Options{
		DenyAssumeRole: []string{"999999999999"},
		ExternalIDs:    map[string]string{role: "right-id"},
		Deny:           map[string][]string{acctA: {"AssumeRole"}},
	})
	tests := []struct {
		name, akid string
		in         sts.AssumeRoleInput
		code       string
		status     int
		msg        string
	}{
		{"denied account", "AKIDB", sts.AssumeRoleInput{RoleArn: aws.String(denied), RoleSessionName: aws.String("s1")},
			"AccessDenied", 403, refusal + denied},
		{"no external ID", "AKIDB", sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("s1")},
			"AccessDenied", 403, refusal + role},
		{"wrong external ID", "AKIDB", sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("s1"), ExternalId: aws.String("wrong-id")},
			"AccessDenied", 403, refusal + role},
		{"caller may not", "ANYKEY", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + acctB + ":role/x"), RoleSessionName: aws.String("s1")},
			"AccessDenied", 403, "User: arn:aws:iam::" + acctA + ":user/ec2sim is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::" + acctB + ":role/x"},
		{"a user, not a role", "AKIDB", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + acctC + ":user/bob"), RoleSessionName: aws.String("s1")},
			"AccessDenied", 403, refusal + "arn:aws:iam::" + acctC + ":user/bob"},
		{"one colon", "AKIDB", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam:" + acctC + ":role/afisync"), RoleSessionName: aws.String("s1")},
			"AccessDenied", 403, refusal + "arn:aws:iam:" + acctC + ":role/afisync"},
		{"short duration", "AKIDB", sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(60)},
			"ValidationError", 400, "1 validation error detected: Value '60' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200"},
		{"bad session name", "AKIDB", sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("a b")},
			"ValidationError", 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.sts(tt.akid).AssumeRole(ctx, &tt.in)
			apiErr(t, err, tt.code, tt.status, tt.msg)
		})
	}
	out, err := e.sts("AKIDB").AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("s1"), ExternalId: aws.String("right-id")})
	if err != nil {
		t.Fatalf("the right external ID: %v", err)
	}
	// Role chaining: a session may assume another role for an hour at most.
	chained := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.srv.URL), HTTPClient: e.srv.Client(),
		Credentials: credentials.NewStaticCredentialsProvider(*out.Credentials.AccessKeyId, *out.Credentials.SecretAccessKey, *out.Credentials.SessionToken)})
	next := sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + acctB + ":role/next"), RoleSessionName: aws.String("s2"), DurationSeconds: aws.Int32(7200)}
	_, err = chained.AssumeRole(ctx, &next)
	apiErr(t, err, "ValidationError", 400, "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	next.DurationSeconds = aws.Int32(3600)
	if _, err := chained.AssumeRole(ctx, &next); err != nil {
		t.Errorf("chained for an hour: %v", err)
	}
}

// TestSessionKeyNamesItsAccount: a session's access key ID names the role's
// account, so a simulator that restarted (and forgot its sessions) still
// takes calls signed with it as that account.
func TestSessionKeyNamesItsAccount(t *testing.T) {
	e := newEnv(t, ec2sim.Options{})
	img := e.add(ec2sim.Image{Region: "us-east-1", Account: acctC})
	for key, sees := range map[string]bool{"ASIA" + acctC + "00A1": true, "ASIA" + acctC + "0": false, "AKIA" + acctC + "00A1": false} {
		out, err := e.ec2("us-east-1", key).DescribeFpgaImages(ctx, &ec2.DescribeFpgaImagesInput{Owners: []string{"self"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(out.FpgaImages) == 1 && aws.ToString(out.FpgaImages[0].FpgaImageId) == img.ID; got != sees {
			t.Errorf("key %s sees %s's AFI: %v, want %v", key, acctC, got, sees)
		}
	}
}
