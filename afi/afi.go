// Package afi is afisync's AWS adapter: it owns every AWS SDK call afisync
// makes (EC2 FPGA image calls and STS GetCallerIdentity), paces them below
// EC2's request-rate buckets, counts them, and turns SDK types into the plain
// reconcile.Image values that Diff works on.
package afi

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"golang.org/x/time/rate"

	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/reconcile"
)

// Config says how to reach AWS. The zero value uses the standard AWS chain
// (environment, shared config and credentials files, SSO, IMDS).
type Config struct {
	// Profile selects a shared-config profile (like --profile / AWS_PROFILE).
	Profile string
	// Region is the region for calls that are not tied to an AFI's region
	// (STS). Empty: the standard chain, else us-east-1.
	Region string
	// EndpointURL sends every call (EC2 and STS) to one URL, the way
	// AWS_ENDPOINT_URL does.
	EndpointURL string
	// Credentials overrides the credential chain (used by --simulate).
	Credentials aws.CredentialsProvider

	// MaxAttempts bounds SDK attempts per call, first try included
	// (0: DefaultMaxAttempts).
	MaxAttempts int
	// Backoff overrides the SDK's retry delay (tests pass a zero delay).
	Backoff func(attempt int, err error) time.Duration
	// Limits paces calls per region and action; nil: DefaultLimits.
	Limits map[string]Limit
	// RateScale multiplies every limit's rate (0: 1). Benchmarks that run
	// the simulator's buckets faster than real time scale this the same way.
	RateScale float64
	// AttemptTimeout bounds each HTTP attempt, reading the response
	// included (0: DefaultAttemptTimeout). An attempt that takes longer is
	// abandoned and retried like a connection error.
	AttemptTimeout time.Duration
	// HTTPClient sends the requests (nil: the SDK's default client). Tests
	// pass one that hands each request to an in-process ec2sim, so that a
	// run needs no socket and can run on a fake clock.
	HTTPClient aws.HTTPClient

	// RoleARN, when set, makes every call with the credentials of an STS
	// AssumeRole session of this role (cached, and refreshed before they
	// expire). The credentials that assume it come from SourceProfile, else
	// from Profile or the standard chain; AssumeRole goes to EndpointURL
	// too.
	RoleARN string
	// SourceProfile is the shared-config profile whose credentials assume
	// RoleARN; "": Profile, else the standard chain.
	SourceProfile string
	ExternalID    string // AssumeRole's ExternalId; "": none
	// SessionName is AssumeRole's RoleSessionName; "": "afisync".
	SessionName string
	// RoleDuration is the role session's duration; 0: the SDK's default
	// (15 minutes).
	RoleDuration time.Duration
	// AccountName names the plan account this configuration is for, in
	// error messages (*AccountError); "": the command's own credentials.
	AccountName string
	// PlanName is the plan's name, for the default role session name
	// "afisync-<plan name>" (AccountConfig).
	PlanName string
}

// DefaultAttemptTimeout bounds one HTTP attempt. EC2 answers the FPGA calls
// in well under a second; an attempt that has had no answer in this time is
// stalled (a hung endpoint, proxy or firewall), and a new attempt is the
// only way forward.
const DefaultAttemptTimeout = 30 * time.Second

// DefaultMaxAttempts is the SDK attempt budget per call. It is higher than
// the SDK's default of 3 because a batch tool would rather wait out a
// throttling burst than fail a target.
const DefaultMaxAttempts = 8

// DefaultMaxBackoff caps the SDK's delay between attempts.
const DefaultMaxBackoff = 20 * time.Second

// Client makes afisync's AWS calls. It is safe for concurrent use.
type Client struct {
	backoff        func(attempt int, err error) time.Duration
	attemptTimeout time.Duration
	profile        string
	cfg            aws.Config
	limits         map[string]Limit
	scale          float64
	sts            *sts.Client
	config         Config // what the client was made from (for messages)
	roleARN        string // the role every call assumes; "": none
	mu             sync.Mutex
	ec2            map[string]*ec2.Client
	limiter        map[string]*rate.Limiter // region + "/" + action
	lastCut        map[string]time.Time     // region + "/" + action: when adapt last slowed it
	stats          *Stats
}

// New loads the AWS configuration (config.LoadDefaultConfig) and returns a
// client. It makes no call.
func New(ctx context.Context, c Config) (*Client, error) {
	maxAttempts := c.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	attemptTimeout := c.AttemptTimeout
	if attemptTimeout <= 0 {
		attemptTimeout = DefaultAttemptTimeout
	}
	if c.Region != "" {
		if err := checkRegion(c.Region, "--region"); err != nil {
			return nil, err
		}
	}
	opts := loadOptions(c, maxAttempts)
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, inAccount(c, configError(baseProfile(c), err))
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	} else if c.Region == "" {
		if err := checkRegion(cfg.Region, "the region from AWS_REGION or the profile"); err != nil {
			return nil, inAccount(c, err)
		}
	}
	if c.HTTPClient != nil {
		// Set after loading: a CA bundle in the configuration
		// (AWS_CA_BUNDLE) needs the SDK's own client to load into, and an
		// in-process client has no TLS to use it for.
		cfg.HTTPClient = c.HTTPClient
	}
	limits := c.Limits
	if limits == nil {
		limits = DefaultLimits
	}
	scale := c.RateScale
	if scale <= 0 {
		scale = 1
	}
	cl := &Client{
		backoff:        c.Backoff,
		attemptTimeout: attemptTimeout,
		profile:        baseProfile(c),
		config:         c,
		roleARN:        c.RoleARN,
		cfg:            cfg,
		limits:         limits,
		scale:          scale,
		ec2:            map[string]*ec2.Client{},
		lastCut:        map[string]time.Time{},
		limiter:        map[string]*rate.Limiter{},
		stats:          newStats(),
	}
	if c.RoleARN != "" {
		// The credentials that assume the role are the loaded ones; every
		// call, GetCallerIdentity included, uses the role's.
		cfg.Credentials = cl.assumeRole(cfg, c)
		cl.cfg = cfg
	}
	if c.AccountName != "" && cfg.Credentials != nil {
		cfg.Credentials = accountCredentials{cfg.Credentials, cl}
		cl.cfg = cfg
	}
	cl.sts = sts.NewFromConfig(cfg, func(o *sts.Options) {
		o.APIOptions = append(o.APIOptions, cl.middleware(cfg.Region)...)
	})
	return cl, nil
}

// loadOptions turns c into config.LoadDefaultConfig's options: the
// profile, region, endpoint and credentials given, and the standard retryer
// with afisync's attempt budget.
func loadOptions(c Config, maxAttempts int) []func(*config.LoadOptions) error {
	var opts []func(*config.LoadOptions) error
	if p := baseProfile(c); p != "" {
		opts = append(opts, config.WithSharedConfigProfile(p))
	}
	if c.Region != "" {
		opts = append(opts, config.WithRegion(c.Region))
	}
	if c.EndpointURL != "" {
		opts = append(opts, config.WithBaseEndpoint(c.EndpointURL))
	}
	if c.Credentials != nil {
		opts = append(opts, config.WithCredentialsProvider(c.Credentials))
	}
	backoff := c.Backoff
	opts = append(opts, config.WithRetryer(func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = maxAttempts
			o.MaxBackoff = DefaultMaxBackoff
			// The client-side retry quota protects services from retry
			// storms of many short-lived requests; afisync already paces
			// itself below EC2's buckets, and a quota exhausted by a
			// throttling burst would fail targets that a wait would save.
			o.RateLimiter = ratelimit.None
			if backoff != nil {
				o.Backoff = retry.BackoffDelayerFunc(func(attempt int, err error) (time.Duration, error) {
					return backoff(attempt, err), nil
				})
			}
		})
	}))
	return opts
}

// ec2For returns the EC2 client for a region, creating it on first use.
func (c *Client) ec2For(region string) *ec2.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl, ok := c.ec2[region]; ok {
		return cl
	}
	cl := ec2.NewFromConfig(c.cfg, func(o *ec2.Options) {
		o.Region = region
		o.APIOptions = append(o.APIOptions, c.middleware(region)...)
	})
	c.ec2[region] = cl
	return cl
}

// Account returns the caller's AWS account ID (STS GetCallerIdentity). It
// resolves the credentials first, so that a missing or expired login is
// reported as such (a *SetupError) rather than as a failed call.
func (c *Client) Account(ctx context.Context) (string, error) {
	if c.cfg.Credentials == nil {
		return "", inAccount(c.config, credentialsError(c.profile, errors.New("no credential provider")))
	}
	if _, err := c.cfg.Credentials.Retrieve(ctx); err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("resolve AWS credentials: %w", err)
		}
		return "", c.credentialFailure(err)
	}
	out, err := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", inAccount(c.config, fmt.Errorf("learn the caller's account (sts:GetCallerIdentity): %w", Explain(err)))
	}
	return aws.ToString(out.Account), nil
}

// ListOwned returns every AFI the caller owns in region: one paginated
// DescribeFpgaImages(Owners=[self], MaxResults=1000) walk.
func (c *Client) ListOwned(ctx context.Context, region string) ([]reconcile.Image, error) {
	p := ec2.NewDescribeFpgaImagesPaginator(c.ec2For(region), &ec2.DescribeFpgaImagesInput{
		Owners:     []string{"self"},
		MaxResults: aws.Int32(1000),
	}, func(o *ec2.DescribeFpgaImagesPaginatorOptions) { o.StopOnDuplicateToken = true })
	var out []reconcile.Image
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list AFIs in %s: %w", region, err)
		}
		for i := range page.FpgaImages {
			out = append(out, toImage(region, &page.FpgaImages[i]))
		}
	}
	return out, nil
}

// ListBySource returns the caller's AFIs in region that carry the
// afisync:source tag value sourceKey: the copies of one source, whatever
// plan made them, pending and failed ones included.
func (c *Client) ListBySource(ctx context.Context, region, sourceKey string) ([]reconcile.Image, error) {
	out, err := c.ec2For(region).DescribeFpgaImages(ctx, &ec2.DescribeFpgaImagesInput{
		Owners:  []string{"self"},
		Filters: []ec2types.Filter{{Name: aws.String("tag:" + plan.TagSource), Values: []string{sourceKey}}},
	})
	if err != nil {
		return nil, fmt.Errorf("find the copies of %s in %s: %w", sourceKey, region, err)
	}
	ims := make([]reconcile.Image, 0, len(out.FpgaImages))
	for i := range out.FpgaImages {
		ims = append(ims, toImage(region, &out.FpgaImages[i]))
	}
	return ims, nil
}

// maxIDsPerDescribe bounds how many IDs one DescribeFpgaImages names.
const maxIDsPerDescribe = 200

// Describe describes AFIs by ID in one region, in batches, with no owner
// filter (so shared and public AFIs are found too). IDs that do not exist are
// returned in missing: DescribeFpgaImages fails the whole call when one
// requested ID does not exist, so Describe drops the named ID and asks again,
// and one missing AFI never hides the others.
func (c *Client) Describe(ctx context.Context, region string, ids []string) (found []reconcile.Image, missing []string, err error) {
	for start := 0; start < len(ids); start += maxIDsPerDescribe {
		batch := append([]string(nil), ids[start:min(start+maxIDsPerDescribe, len(ids))]...)
		for len(batch) > 0 {
			out, err := c.ec2For(region).DescribeFpgaImages(ctx, &ec2.DescribeFpgaImagesInput{FpgaImageIds: batch})
			if err == nil {
				for i := range out.FpgaImages {
					found = append(found, toImage(region, &out.FpgaImages[i]))
				}
				break
			}
			gone := notFoundID(err, batch)
			if gone == "" {
				return nil, nil, fmt.Errorf("describe AFIs in %s: %w", region, err)
			}
			missing = append(missing, gone)
			batch = remove(batch, gone)
		}
	}
	return found, missing, nil
}

// notFoundID returns the requested ID that an InvalidFpgaImageID.NotFound
// (or .Malformed) error names ("Image ID 'afi-…' not found"), or "" if err is another error
// or names none of ids.
func notFoundID(err error, ids []string) string {
	var ae smithy.APIError
	if !errors.As(err, &ae) || (ae.ErrorCode() != "InvalidFpgaImageID.NotFound" && ae.ErrorCode() != "InvalidFpgaImageID.Malformed") {
		return ""
	}
	msg := ae.ErrorMessage()
	for _, id := range ids {
		if strings.Contains(msg, "'"+id+"'") {
			return id
		}
	}
	if len(ids) == 1 {
		return ids[0]
	}
	return ""
}

func remove(ids []string, id string) []string {
	out := ids[:0]
	for _, x := range ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}

// CopyInput is one CopyFpgaImage request.
type CopyInput struct {
	SourceRegion string
	SourceAFI    string
	Region       string // destination
	Name         string // empty: AWS keeps the source's name
	Description  string // empty: omitted
	ClientToken  string
	DryRun       bool
}

// Copy calls CopyFpgaImage in the destination region and returns the new
// (or, for a repeated ClientToken, the existing) copy's AFI ID.
func (c *Client) Copy(ctx context.Context, in CopyInput) (string, error) {
	req := &ec2.CopyFpgaImageInput{
		SourceFpgaImageId: aws.String(in.SourceAFI),
		SourceRegion:      aws.String(in.SourceRegion),
		ClientToken:       aws.String(in.ClientToken),
	}
	if in.Name != "" {
		req.Name = aws.String(in.Name)
	}
	if in.Description != "" {
		req.Description = aws.String(in.Description)
	}
	if in.DryRun {
		req.DryRun = aws.Bool(true)
	}
	out, err := c.ec2For(in.Region).CopyFpgaImage(ctx, req)
	if err != nil {
		return "", fmt.Errorf("copy %s/%s to %s: %w", in.SourceRegion, in.SourceAFI, in.Region, err)
	}
	return aws.ToString(out.FpgaImageId), nil
}

// CreateTags writes tags on AFIs of one region in one CreateTags call.
func (c *Client) CreateTags(ctx context.Context, region string, ids []string, tags map[string]string) error {
	if len(ids) == 0 || len(tags) == 0 {
		return nil
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ts := make([]ec2types.Tag, 0, len(keys))
	for _, k := range keys {
		ts = append(ts, ec2types.Tag{Key: aws.String(k), Value: aws.String(tags[k])})
	}
	_, err := c.ec2For(region).CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids, Tags: ts})
	if err != nil {
		return fmt.Errorf("tag %s in %s: %w", strings.Join(ids, ","), region, err)
	}
	return nil
}

// toImage converts the SDK's FpgaImage.
func toImage(region string, f *ec2types.FpgaImage) reconcile.Image {
	im := reconcile.Image{
		ID:          aws.ToString(f.FpgaImageId),
		AGFI:        aws.ToString(f.FpgaImageGlobalId),
		Region:      region,
		OwnerID:     aws.ToString(f.OwnerId),
		Name:        aws.ToString(f.Name),
		Description: aws.ToString(f.Description),
		Public:      aws.ToBool(f.Public),
		CreateTime:  aws.ToTime(f.CreateTime),
	}
	if f.State != nil {
		im.State = string(f.State.Code)
		im.Message = aws.ToString(f.State.Message)
	}
	if len(f.Tags) > 0 {
		im.Tags = make(map[string]string, len(f.Tags))
		for _, t := range f.Tags {
			im.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return im
}

// ErrorCode returns the AWS error code in err ("" if none).
func ErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}
