package afi_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/ec2sim"
	"github.com/afisync/afisync/plan"
)

const (
	prodRole = "arn:aws:iam::222222222222:role/afisync"
	prodID   = "222222222222"
)

// assumed records the AssumeRole requests accountsEnv's simulators answer.
var assumed struct {
	sync.Mutex
	forms []url.Values
}

// accountsEnv is a simulator served in-process and a base configuration
// for it, with AWS's files in a temporary directory holding config (the
// shared config file) and credentials. Its clock starts at the real time, so
// that the SDK's credentials cache keeps role sessions.
func accountsEnv(t *testing.T, o ec2sim.Options, config, creds string) (*ec2sim.Sim, afi.Config) {
	t.Helper()
	dir := t.TempDir()
	for name, text := range map[string]string{"config": config, "credentials": creds} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("HOME", dir) // the SSO token cache, ~/.aws/sso/cache, is empty
	o.Clock = ec2sim.NewManualClock(time.Now().UTC().Truncate(time.Second))
	sim := ec2sim.New(o)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if form, _ := url.ParseQuery(string(body)); form.Get("Action") == "AssumeRole" {
			assumed.Lock()
			assumed.forms = append(assumed.forms, form)
			assumed.Unlock()
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sim.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return sim, afi.Config{Region: "us-east-1", EndpointURL: srv.URL, HTTPClient: srv.Client(), PlanName: "fleet",
		Backoff: func(int, error) time.Duration { return 0 }, MaxAttempts: 2, Limits: map[string]afi.Limit{}}
}

// TestAssumedRoleAccount: a role_arn account acts as the role's account
// for every call, assuming the role once for many calls, with the session
// name of the plan.
func TestAssumedRoleAccount(t *testing.T) {
	sim, base := accountsEnv(t, ec2sim.Options{ExternalIDs: map[string]string{prodRole: "fleet-7f3a"}, CallLog: true}, "",
		"[ci]\naws_access_key_id = AKIDCI\naws_secret_access_key = secret\n")
	img, err := sim.AddImage(ec2sim.Image{Region: "us-east-1", Account: prodID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sim.AddImage(ec2sim.Image{Region: "us-east-1"}); err != nil { // the caller's own
		t.Fatal(err)
	}
	for _, a := range []plan.Account{
		{Name: "prod", ID: prodID, RoleARN: prodRole, ExternalID: "fleet-7f3a", SourceProfile: "ci", Duration: time.Hour},
		{Name: "prod", ID: prodID, RoleARN: prodRole, ExternalID: "fleet-7f3a"}, // assumed with the base's chain: none here, so static keys
	} {
		cfg := afi.AccountConfig(base, a)
		if a.SourceProfile == "" {
			cfg.Credentials = credentials.NewStaticCredentialsProvider("AKIDBASE", "secret", "")
		}
		before := sim.Stats().Count("AssumeRole", "us-east-1", "ok")
		c, err := afi.New(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Account(context.Background())
		if err != nil || got != prodID {
			t.Fatalf("Account() = %q, %v; want %s", got, err, prodID)
		}
		if err := afi.CheckAccountID(a, got); err != nil {
			t.Error(err)
		}
		for range 3 {
			ims, err := c.ListOwned(context.Background(), "us-east-1")
			if err != nil {
				t.Fatal(err)
			}
			if len(ims) != 1 || ims[0].ID != img.ID {
				t.Errorf("the role's session lists %+v, want only %s", ims, img.ID)
			}
		}
		if n := sim.Stats().Count("AssumeRole", "us-east-1", "ok") - before; n != 1 {
			t.Errorf("%d AssumeRole calls for 4 calls, want 1 (cached)", n)
		}
		assumed.Lock()
		form := assumed.forms[len(assumed.forms)-1]
		assumed.Unlock()
		wantSeconds := "900" // the SDK's default
		if a.Duration > 0 {
			wantSeconds = "3600"
		}
		if form.Get("RoleSessionName") != "afisync-fleet" || form.Get("ExternalId") != "fleet-7f3a" || form.Get("RoleArn") != prodRole ||
			form.Get("DurationSeconds") != wantSeconds {
			t.Errorf("AssumeRole sent %v; want session afisync-fleet, the external ID and %s s", form, wantSeconds)
		}
	}
}

// TestProfileAccount: a profile account uses the profile's credentials,
// not the command's.
func TestProfileAccount(t *testing.T) {
	_, base := accountsEnv(t, ec2sim.Options{Accounts: map[string]string{"AKIDDEV": "333333333333"}}, "",
		"[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = secret\n")
	base.Credentials = credentials.NewStaticCredentialsProvider("AKIDBASE", "secret", "") // the command's: another account
	c, err := afi.New(context.Background(), afi.AccountConfig(base, plan.Account{Name: "dev", Profile: "dev"}))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := c.Account(context.Background()); err != nil || got != "333333333333" {
		t.Errorf("Account() = %q, %v; want the profile's 333333333333", got, err)
	}
}

// TestAccountErrors: each way an account's credentials fail is one line
// naming the account and the fix.
func TestAccountErrors(t *testing.T) {
	const config = `[profile dev-sso]
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1
sso_account_id = 111111111111
sso_role_name = afisync
region = us-east-1

[profile chain]
role_arn = arn:aws:iam::444444444444:role/base
source_profile = ci
`
	_, base := accountsEnv(t, ec2sim.Options{DenyAssumeRole: []string{"999999999999"}, ExternalIDs: map[string]string{prodRole: "fleet-7f3a"}},
		config, "[ci]\naws_access_key_id = AKIDCI\naws_secret_access_key = secret\n")
	tests := []struct {
		name    string
		a       plan.Account
		invalid bool     // errors.Is ErrInvalidConfig, at New
		want    []string // in the message
	}{
		{"profile not there", plan.Account{Name: "dev", Profile: "nope"}, true,
			[]string{`account "dev": `, `profile "nope" is not in ~/.aws/config or ~/.aws/credentials`}},
		{"source profile not there", plan.Account{Name: "prod", RoleARN: prodRole, SourceProfile: "nope"}, true,
			[]string{`account "prod": `, `profile "nope" is not in`}},
		{"expired SSO", plan.Account{Name: "dev", Profile: "dev-sso"}, false,
			[]string{`account "dev": the AWS SSO session has expired or was never started: run ` + "`aws sso login --profile dev-sso`"}},
		{"expired SSO of the source profile", plan.Account{Name: "prod", RoleARN: prodRole, SourceProfile: "dev-sso", ExternalID: "fleet-7f3a"}, false,
			[]string{`account "prod": the AWS SSO session has expired or was never started: run ` + "`aws sso login --profile dev-sso`"}},
		{"denied", plan.Account{Name: "cust", RoleARN: "arn:aws:iam::999999999999:role/afisync", SourceProfile: "ci"}, false,
			[]string{`account "cust": cannot assume role arn:aws:iam::999999999999:role/afisync with source_profile "ci" (AccessDenied: User: arn:aws:iam::111122223333:user/ec2sim is not authorized`,
				"check that the role exists, that its trust policy names the caller's account or role", "set external_id"}},
		{"wrong external ID", plan.Account{Name: "prod", RoleARN: prodRole, SourceProfile: "ci", ExternalID: "wrong-id"}, false,
			[]string{`account "prod": cannot assume role ` + prodRole, "(AccessDenied: ", "that external_id is the ID its trust policy's sts:ExternalId condition requires"}},
		{"role chaining beyond an hour", plan.Account{Name: "prod", RoleARN: prodRole, SourceProfile: "chain", ExternalID: "fleet-7f3a", Duration: 2 * time.Hour}, false,
			[]string{`account "prod": cannot assume role ` + prodRole + ` with source_profile "chain" (ValidationError: The requested DurationSeconds exceeds the 1 hour session limit`,
				"set the account's duration: to 1h or less"}},
		{"no external ID", plan.Account{Name: "prod", RoleARN: prodRole, SourceProfile: "ci"}, false,
			[]string{"(AccessDenied: ", "if its trust policy has an sts:ExternalId condition, set external_id to that ID"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := afi.New(context.Background(), afi.AccountConfig(base, tt.a))
			if err == nil {
				if tt.invalid {
					t.Fatal("New: no error")
				}
				_, err = c.Account(context.Background())
			}
			if err == nil {
				t.Fatal("no error")
			}
			var ae *afi.AccountError
			if !errors.As(err, &ae) || ae.Account != tt.a.Name {
				t.Errorf("%T %v: not an *afi.AccountError of %s", err, err, tt.a.Name)
			}
			if errors.Is(err, afi.ErrInvalidConfig) != tt.invalid {
				t.Errorf("errors.Is(ErrInvalidConfig) = %v, want %v", !tt.invalid, tt.invalid)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			if strings.Count(msg, "\n") > 0 {
				t.Errorf("error is not one line: %q", msg)
			}
			if c == nil {
				return
			}
			// A call of the run fails the same way, whatever the SDK adds.
			_, err = c.ListOwned(context.Background(), "us-east-1")
			if ex := afi.Explain(err); ex == nil || ex.Error() != msg {
				t.Errorf("ListOwned: Explain(%v)\n = %v\nwant %s", err, ex, msg)
			}
		})
	}
}

func TestCheckAccountID(t *testing.T) {
	for _, tt := range []struct {
		a    plan.Account
		got  string
		want string // "" for no error
	}{
		{plan.Account{Name: "dev", Profile: "dev"}, "111111111111", ""},
		{plan.Account{Name: "dev", Profile: "dev", ID: "111111111111"}, "111111111111", ""},
		{plan.Account{Name: "dev", Profile: "dev", ID: "111111111111"}, "333333333333",
			`account "dev": invalid AWS configuration: the credentials of profile "dev" are for account 333333333333, but the plan says 111111111111 (its id:): fix the profile or the plan`},
		{plan.Account{Name: "prod", RoleARN: prodRole, ID: prodID}, "333333333333",
			`account "prod": invalid AWS configuration: the credentials of role ` + prodRole + ` are for account 333333333333, but the plan says ` + prodID + ` (its role_arn): fix the profile or the plan`},
	} {
		err := afi.CheckAccountID(tt.a, tt.got)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%+v, %s: %v", tt.a, tt.got, err)
		case tt.want != "" && (err == nil || err.Error() != tt.want || !errors.Is(err, afi.ErrInvalidConfig)):
			t.Errorf("%+v, %s:\n got %v\nwant %s", tt.a, tt.got, err, tt.want)
		}
	}
}

func TestAccountConfig(t *testing.T) {
	base := afi.Config{Profile: "ci", Region: "eu-west-1", EndpointURL: "http://127.0.0.1:1", PlanName: "fleet",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDBASE", "secret", "")}
	for _, tt := range []struct {
		a    plan.Account
		want afi.Config
	}{
		{plan.Account{Name: "dev", Profile: "dev"},
			afi.Config{Profile: "dev", Region: "eu-west-1", EndpointURL: base.EndpointURL, PlanName: "fleet", AccountName: "dev"}},
		{plan.Account{Name: "prod", RoleARN: prodRole, SourceProfile: "src", ExternalID: "x1", SessionName: "s1", Duration: time.Hour},
			afi.Config{Profile: "ci", Region: "eu-west-1", EndpointURL: base.EndpointURL, PlanName: "fleet", AccountName: "prod",
				Credentials: base.Credentials, RoleARN: prodRole, SourceProfile: "src", ExternalID: "x1", SessionName: "s1", RoleDuration: time.Hour}},
		{plan.Account{Name: "gov", RoleARN: "arn:aws-us-gov:iam::222222222222:role/afisync"},
			afi.Config{Profile: "ci", Region: "us-gov-west-1", EndpointURL: base.EndpointURL, PlanName: "fleet", AccountName: "gov",
				Credentials: base.Credentials, RoleARN: "arn:aws-us-gov:iam::222222222222:role/afisync"}},
	} {
		got := afi.AccountConfig(base, tt.a)
		if got.Profile != tt.want.Profile || got.Region != tt.want.Region || got.EndpointURL != tt.want.EndpointURL || got.AccountName != tt.want.AccountName ||
			got.PlanName != tt.want.PlanName || (got.Credentials == nil) != (tt.want.Credentials == nil) || got.RoleARN != tt.want.RoleARN ||
			got.SourceProfile != tt.want.SourceProfile || got.ExternalID != tt.want.ExternalID || got.SessionName != tt.want.SessionName ||
			got.RoleDuration != tt.want.RoleDuration {
			t.Errorf("AccountConfig(%+v) =\n %+v\nwant\n %+v", tt.a, got, tt.want)
		}
	}
}

// TestRoleSessionRenewed: over a 3-hour run on the fake clock of a
// synctest bubble (the simulator's clock and the SDK's are the same), 15
// minute role sessions are renewed about every 14 minutes (a minute before
// they expire) and every call in between reuses the session.
func TestRoleSessionRenewed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := ec2sim.New(ec2sim.Options{}) // the real clock: the bubble's
		cfg := afi.AccountConfig(afi.Config{Region: "us-east-1", EndpointURL: "http://ec2sim.invalid", HTTPClient: &http.Client{Transport: serveSim{sim}},
			Credentials: credentials.NewStaticCredentialsProvider("AKIDBASE", "secret", ""), Limits: map[string]afi.Limit{}},
			plan.Account{Name: "prod", RoleARN: prodRole}) // duration 0: the SDK's 15 minutes
		c, err := afi.New(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		calls := 0
		for elapsed := time.Duration(0); elapsed < 3*time.Hour; elapsed += time.Minute {
			if got, err := c.Account(context.Background()); err != nil || got != prodID {
				t.Fatalf("at %v: Account() = %q, %v", elapsed, got, err)
			}
			calls++
			time.Sleep(time.Minute)
		}
		// 180 minutes / 14 = 12.9: the first session and 12 renewals.
		if n := sim.Stats().Count("AssumeRole", "us-east-1", "ok"); n != 13 {
			t.Errorf("%d AssumeRole calls for %d calls over 3h, want 13 (one per 14 minutes)", n, calls)
		}
	})
}
