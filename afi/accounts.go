package afi

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/afisync/afisync/plan"
)

// AccountConfig is the configuration of one plan account, built from the
// command's base configuration: the endpoint, region, HTTP client, retry
// and pacing settings are the base's; the credentials are the account's
// (its profile, or its role assumed with its source profile's credentials,
// else with the base's profile or chain). SessionName defaults to
// "afisync-<plan name>" only when the caller sets it; see
// plan.SessionNameFor.
func AccountConfig(base Config, a plan.Account) Config {
	c := base
	c.AccountName = a.Name
	c.RoleARN, c.SourceProfile, c.ExternalID, c.SessionName, c.RoleDuration = "", "", "", "", 0
	switch {
	case a.Profile != "":
		c.Profile = a.Profile
		c.Credentials = nil
	case a.RoleARN != "":
		c.RoleARN = a.RoleARN
		c.SourceProfile = a.SourceProfile
		c.ExternalID = a.ExternalID
		c.SessionName = a.SessionName
		c.RoleDuration = a.Duration
	}
	return c
}

// assumeRole replaces cfg's credentials with those of an AssumeRole
// session of c.RoleARN, assumed with cfg's own credentials through an STS
// client of cfg (same endpoint, region and HTTP client), and cached.
func assumeRole(cfg aws.Config, c Config) aws.CredentialsProvider {
	client := sts.NewFromConfig(cfg)
	p := stscreds.NewAssumeRoleProvider(client, c.RoleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = c.SessionName
		if o.RoleSessionName == "" {
			o.RoleSessionName = "afisync"
		}
		if c.ExternalID != "" {
			o.ExternalID = aws.String(c.ExternalID)
		}
		if c.RoleDuration > 0 {
			o.Duration = c.RoleDuration
		}
	})
	return aws.NewCredentialsCache(p)
}

// baseProfile is the profile whose credentials a client of c starts from:
// the source profile of a role, else c's profile.
func baseProfile(c Config) string {
	if c.RoleARN != "" && c.SourceProfile != "" {
		return c.SourceProfile
	}
	return c.Profile
}
