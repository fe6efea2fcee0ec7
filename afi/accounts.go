package afi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/afisync/afisync/internal/awsid"
	"github.com/afisync/afisync/plan"
)

// AccountConfig is the configuration of one plan account, built from the
// command's base configuration: the endpoint, region (for a role in another
// partition: that partition's STS region), HTTP client, retry and pacing
// settings are the base's; the credentials are the account's
// (its profile, or its role assumed with its source profile's credentials,
// else with the base's profile, credentials or chain). A profile account
// drops base.Credentials (a --simulate caller sets the account's own
// afterwards). The role session's name is a's session_name, else
// "afisync-" and base.PlanName (plan.SessionNameFor).
func AccountConfig(base Config, a plan.Account) Config {
	c := base
	c.AccountName = a.Name
	c.RoleARN, c.SourceProfile, c.ExternalID, c.SessionName, c.RoleDuration = "", "", "", "", 0
	switch {
	case a.Profile != "":
		c.Profile = a.Profile
		c.Credentials = nil
	case a.RoleARN != "":
		if r, why := awsid.ParseRoleARN(a.RoleARN); why == "" && c.Region != "" && awsid.PartitionOf(c.Region) != r.Partition {
			// STS answers for its own partition only.
			c.Region = partitionRegion[r.Partition]
		}
		c.RoleARN = a.RoleARN
		c.SourceProfile = a.SourceProfile
		c.ExternalID = a.ExternalID
		c.SessionName = a.SessionName
		c.RoleDuration = a.Duration
	}
	return c
}

// partitionRegion is the region afisync sends a partition's STS calls to
// when the command's region is in another partition.
var partitionRegion = map[string]string{"aws": "us-east-1", "aws-us-gov": "us-gov-west-1", "aws-cn": "cn-north-1"}

// assumeRole returns the credentials of AssumeRole sessions of c.RoleARN,
// assumed with cfg's credentials through an STS client of cfg (same
// endpoint, region, HTTP client, and cl's attempt deadline and counting),
// cached and renewed before they expire.
func (cl *Client) assumeRole(cfg aws.Config, c Config) aws.CredentialsProvider {
	client := sts.NewFromConfig(cfg, func(o *sts.Options) {
		o.APIOptions = append(o.APIOptions, cl.middleware(cfg.Region)...)
	})
	p := stscreds.NewAssumeRoleProvider(client, c.RoleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = c.SessionName
		if o.RoleSessionName == "" {
			o.RoleSessionName = plan.SessionNameFor(plan.Account{}, c.PlanName)
		}
		if c.ExternalID != "" {
			o.ExternalID = aws.String(c.ExternalID)
		}
		if c.RoleDuration > 0 {
			o.Duration = c.RoleDuration
		}
	})
	// Renew a minute before expiry, so that no call is signed with
	// credentials that expire on the way.
	return aws.NewCredentialsCache(p, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = time.Minute })
}

// baseProfile is the profile whose credentials a client of c starts from:
// the source profile of a role, else c's profile.
func baseProfile(c Config) string {
	if c.RoleARN != "" && c.SourceProfile != "" {
		return c.SourceProfile
	}
	return c.Profile
}

// AccountError is a failure that concerns one account of the plan: its
// profile, its role or its credentials. Its message names the account; Err
// keeps the rest (a *SetupError, ErrInvalidConfig, an API error).
type AccountError struct {
	Account string // the account's name in the plan
	Err     error
}

func (e *AccountError) Error() string { return fmt.Sprintf("account %q: %v", e.Account, e.Err) }

// Unwrap returns what went wrong.
func (e *AccountError) Unwrap() error { return e.Err }

// inAccount ties err to the account a client of c is for; err itself for
// the command's own credentials.
func inAccount(c Config, err error) error {
	if err == nil || c.AccountName == "" {
		return err
	}
	var ae *AccountError
	if errors.As(err, &ae) {
		return err
	}
	return &AccountError{Account: c.AccountName, Err: err}
}

// accountCredentials is the credentials provider of a plan account's
// client: the account's own, whose failures, at any call of the run (a
// role renewed an hour in), are worded by credentialFailure.
type accountCredentials struct {
	aws.CredentialsProvider
	cl *Client
}

// Retrieve returns the account's credentials, or why there are none.
func (p accountCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	cr, err := p.CredentialsProvider.Retrieve(ctx)
	if err != nil && ctx.Err() == nil {
		err = p.cl.credentialFailure(err)
	}
	return cr, err
}

// IsCredentialsProvider lets the SDK see the provider wrapped (a
// credentials cache, which it must not wrap in another).
func (p accountCredentials) IsCredentialsProvider(t aws.CredentialsProvider) bool {
	return aws.IsCredentialsProvider(p.CredentialsProvider, t)
}

// credentialFailure words a failure to get the credentials of a client:
// the role could not be assumed (an STS answer), or the credentials that
// assume it, or the profile's own, are missing or expired.
func (c *Client) credentialFailure(err error) error {
	var done *AccountError
	if errors.As(err, &done) {
		return done
	}
	var api smithy.APIError
	if c.roleARN == "" || !errors.As(err, &api) {
		if ex := Explain(err); ex != err { // an endpoint that cannot be reached
			return inAccount(c.config, ex)
		}
		return inAccount(c.config, credentialsError(c.profile, err))
	}
	return inAccount(c.config, roleError(c.config, api, err))
}

// roleError words STS's refusal to let the caller assume c.RoleARN.
func roleError(c Config, api smithy.APIError, err error) error {
	who := "the command's own credentials (--profile, AWS_PROFILE or the standard chain)"
	if c.SourceProfile != "" {
		who = fmt.Sprintf("source_profile %q", c.SourceProfile)
	} else if c.Profile != "" {
		who = fmt.Sprintf("profile %q", c.Profile)
	}
	what := fmt.Sprintf("cannot assume role %s with %s (%s: %s)", c.RoleARN, who, api.ErrorCode(), api.ErrorMessage())
	var fix string
	switch code := api.ErrorCode(); {
	case code == "AccessDenied":
		ext := "and, if its trust policy has an sts:ExternalId condition, set external_id to that ID"
		if c.ExternalID != "" {
			ext = "and that external_id is the ID its trust policy's sts:ExternalId condition requires (a wrong external ID is refused this way too)"
		}
		fix = "check that the role exists, that its trust policy names the caller's account or role, that the caller may call sts:AssumeRole on it, " + ext
	case code == "ValidationError" && strings.Contains(api.ErrorMessage(), "role chaining"):
		fix = "the credentials that assume it are a role's own (role chaining), which AWS limits to 1 hour: set the account's duration: to 1h or less, or give source_profile long-term or SSO credentials"
	case code == "ValidationError" && strings.Contains(api.ErrorMessage(), "DurationSeconds"):
		fix = "lower the account's duration: in the plan, or raise the role's maximum session duration in IAM"
	case code == "ExpiredToken" || code == "InvalidClientTokenId" || code == "SignatureDoesNotMatch":
		fix = "the credentials that assume the role are expired or wrong: renew them (aws sso login, aws configure) and try again"
	case code == "RegionDisabledException":
		fix = "activate STS in the region (IAM account settings) or pass another --region"
	default:
		return &SetupError{Err: err, Msg: what}
	}
	return &SetupError{Err: err, Msg: what + ": " + fix}
}

// CheckAccountID compares the account STS reports for a's credentials
// (got) with the ID the plan says it must have (a.ID, from id: or its role
// ARN); a mismatch is an *AccountError wrapping ErrInvalidConfig.
func CheckAccountID(a plan.Account, got string) error {
	if a.ID == "" || a.ID == got {
		return nil
	}
	where := "its id:"
	if a.RoleARN != "" {
		where = "its role_arn"
	}
	via := fmt.Sprintf("profile %q", a.Profile)
	if a.RoleARN != "" {
		via = "role " + a.RoleARN
	}
	return &AccountError{Account: a.Name, Err: fmt.Errorf("%w: the credentials of %s are for account %s, but the plan says %s (%s): fix the profile or the plan",
		ErrInvalidConfig, via, got, a.ID, where)}
}
