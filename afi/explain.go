package afi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ssocreds"
	"github.com/aws/smithy-go"

	"github.com/afisync/afisync/plan"
)

// ErrInvalidConfig marks a configuration error the caller can fix before any
// call is made (an unknown --region, a missing profile); the CLI exits 3 for
// it, like an invalid plan.
var ErrInvalidConfig = errors.New("invalid AWS configuration")

// SetupError is an error that stops a run before it can do anything — no
// credentials, an endpoint that cannot be reached — worded as what to do
// about it. Err keeps the SDK's own words for --log-level debug.
type SetupError struct {
	Msg string
	Err error
}

func (e *SetupError) Error() string { return e.Msg }

// Unwrap returns the SDK's error.
func (e *SetupError) Unwrap() error { return e.Err }

// checkRegion refuses a region that is not an AWS region name, saying where
// it came from.
func checkRegion(region, from string) error {
	if err := plan.RegionError(region); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrInvalidConfig, from, err)
	}
	return nil
}

// credentialsError words a failure of the credential chain.
func credentialsError(profile string, err error) error {
	var tokenErr *ssocreds.InvalidTokenError
	msg := err.Error()
	switch {
	case errors.As(err, &tokenErr) || strings.Contains(msg, "SSO"):
		login := "aws sso login"
		if profile != "" {
			login += " --profile " + profile
		}
		return &SetupError{Err: err, Msg: fmt.Sprintf("the AWS SSO session has expired or was never started: run `%s` and try again", login)}
	}
	where := "the standard AWS chain (environment, ~/.aws/config and ~/.aws/credentials, SSO, instance role)"
	if profile != "" {
		where = fmt.Sprintf("profile %q", profile)
	}
	return &SetupError{Err: err, Msg: "no AWS credentials found in " + where +
		": set AWS_PROFILE or --profile to a configured profile, run `aws configure`, " +
		"or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (to try afisync without AWS, add --simulate)"}
}

// configError words a failure of config.LoadDefaultConfig.
func configError(profile string, err error) error {
	var notExist config.SharedConfigProfileNotExistError
	if errors.As(err, &notExist) {
		return fmt.Errorf("%w: profile %q is not in ~/.aws/config or ~/.aws/credentials (see `aws configure list-profiles`)", ErrInvalidConfig, notExist.Profile)
	}
	return &SetupError{Err: err, Msg: "cannot load the AWS configuration: " + err.Error()}
}

// Explain turns an error from a call into one a person can act on: an
// endpoint that cannot be reached is named with what to check; an AWS
// error keeps its code and message; a failure of a plan account's
// credentials is its *AccountError alone. It returns err itself when it
// has nothing better to say.
func Explain(err error) error {
	if err == nil {
		return nil
	}
	var acc *AccountError
	if errors.As(err, &acc) {
		return acc // one line naming the account says it all
	}
	var se *SetupError
	var ae smithy.APIError
	if errors.As(err, &se) || errors.As(err, &ae) {
		return err
	}
	var te *AttemptTimeoutError
	if errors.As(err, &te) {
		return &SetupError{Err: err, Msg: fmt.Sprintf("cannot reach %s: %s in %s had no answer within %s, every attempt (a stalled endpoint, proxy or firewall?)",
			te.Endpoint, te.Action, te.Region, te.After)}
	}
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	endpoint := ue.URL
	if u, perr := url.Parse(ue.URL); perr == nil {
		endpoint = u.Scheme + "://" + u.Host
	}
	var dns *net.DNSError
	var why string
	switch {
	case errors.As(err, &dns) && dns.IsNotFound:
		why = "no such host " + dns.Name + " (check --region, --endpoint-url and AWS_ENDPOINT_URL)"
	case strings.Contains(ue.Error(), "connection refused"):
		why = "connection refused (is the endpoint running? check --endpoint-url and AWS_ENDPOINT_URL)"
	case ue.Timeout():
		why = "no answer in time (a stalled endpoint, proxy or firewall?)"
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return err
	default:
		why = ue.Err.Error()
	}
	return &SetupError{Err: err, Msg: fmt.Sprintf("cannot reach %s: %s", endpoint, why)}
}
