package ec2sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults used when the corresponding Options field is zero.
const (
	// DefaultCopyTime is how long a copy stays pending. AWS documents no
	// figure ("may take some time"); two minutes keeps demos short.
	DefaultCopyTime = 2 * time.Minute
	// DefaultBuildTime is how long a CreateFpgaImage build stays pending.
	// Real builds take up to hours.
	DefaultBuildTime = 10 * time.Minute
	// DefaultAccount is the account of any access key not in Options.Accounts.
	DefaultAccount = "111122223333"
	// NoDelay, as Options.CopyTime or Options.BuildTime, makes copies or
	// builds finish at the instant they are requested (0 means "default").
	NoDelay time.Duration = -1
)

// DefaultFPGARegions are the Regions that accept FPGA calls unless
// Options.FPGARegions says otherwise.
var DefaultFPGARegions = []string{"us-east-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-central-1", "ap-southeast-2"}

// Options configures a Sim. The zero value is a usable simulator on real time.
type Options struct {
	// Clock supplies the time; nil means real time.
	Clock Clock
	// CopyTime is how long a copy stays pending before it turns available
	// or failed. 0 means DefaultCopyTime; NoDelay (negative) means none.
	CopyTime time.Duration
	// BuildTime is how long a CreateFpgaImage build stays pending.
	// 0 means DefaultBuildTime; NoDelay (negative) means none.
	BuildTime time.Duration
	// Jitter is a ± fraction applied to CopyTime and BuildTime (0.2 means
	// each duration is drawn uniformly from 80% to 120%).
	Jitter float64
	// Seed seeds the random source for IDs, jitter and random faults. The
	// same seed and the same sequence of calls give the same results.
	Seed int64
	// Accounts maps access key IDs to account IDs.
	Accounts map[string]string
	// DefaultAccount is the account of unknown access keys; "" means
	// DefaultAccount (111122223333).
	DefaultAccount string
	// FPGARegions are the Regions that accept FPGA calls; nil means
	// DefaultFPGARegions.
	FPGARegions []string
	// Throttle enables EC2's token buckets (per account, Region and action).
	Throttle bool
	// ThrottleScale multiplies the buckets' refill rates; 0 means 1. A
	// scale of 10 lets a benchmark run ten times faster than AWS allows
	// while keeping the bucket sizes.
	ThrottleScale float64
	// ErrorRate is the fraction of calls answered with a random 500
	// InternalError or 503 Unavailable.
	ErrorRate float64
	// FailRate is the fraction of otherwise good cross-region copies that end
	// failed with TransientCopyFailure.
	FailRate float64
	// Latency is added to every call (a real sleep, outside any lock).
	Latency time.Duration
	// Deny maps an account ID to actions it is not allowed to call; those
	// calls answer UnauthorizedOperation (403), dry run or not (STS's
	// GetCallerIdentity and AssumeRole: AccessDenied).
	Deny map[string][]string
	// DenyAssumeRole lists accounts whose roles cannot be assumed: STS
	// AssumeRole answers AccessDenied (403) for any role in them, as AWS
	// does when a role's trust policy does not name the caller.
	DenyAssumeRole []string
	// ExternalIDs maps a role ARN to the external ID its trust policy
	// requires (an sts:ExternalId condition): AssumeRole of that role with
	// no external ID or another one answers AccessDenied (403).
	ExternalIDs map[string]string
	// CallLog keeps a record of every call, in the order the simulator
	// handled them, for CallLog. Tests check interleaving and pacing from it
	// on the simulator's clock instead of timing the client.
	CallLog bool
	// AFILimit is the number of AFIs an account may own in a Region (in
	// any state; deleted AFIs do not count), like the Service Quota
	// "Amazon FPGA images (AFIs)". CreateFpgaImage and CopyFpgaImage past it
	// answer ResourceLimitExceeded. 0 means no limit.
	AFILimit int
}

// Sim is the simulator. It implements http.Handler and is safe for concurrent
// use.
type Sim struct {
	clock       Clock
	copyTime    time.Duration
	buildTime   time.Duration
	jitter      float64
	accounts    map[string]string
	defAccount  string
	fpgaRegions map[string]bool
	scale       float64
	latency     time.Duration
	deny        map[string]map[string]bool
	denyRoles   map[string]bool   // accounts whose roles cannot be assumed
	externalIDs map[string]string // role ARN → external ID

	mu       sync.Mutex
	sessions map[string]session // assumed roles' sessions, by access key ID
	// sessionSeq numbers the sessions AssumeRole starts.
	sessionSeq uint64
	rng        *rand.Rand
	reqSeq     uint64
	throttle   bool
	errorRate  float64
	failRate   float64
	images     map[string]*afi // by ID; IDs are unique across Regions
	tokens     map[tokenKey]tokenEntry
	deleted    map[string]bool // IDs deleted, for the "not found." message
	buckets    map[bucketKey]*bucket
	faults     map[string][]fault
	calls      map[callKey]int
	retries    map[retryKey]int
	logCalls   bool
	log        []Call
	afiLimit   int
	// changes counts calls and Go API calls that changed the world.
	changes uint64
}

// New returns a simulator configured by o.
func New(o Options) *Sim {
	s := &Sim{
		clock:       o.Clock,
		copyTime:    o.CopyTime,
		buildTime:   o.BuildTime,
		jitter:      o.Jitter,
		accounts:    map[string]string{},
		defAccount:  o.DefaultAccount,
		fpgaRegions: map[string]bool{},
		scale:       o.ThrottleScale,
		latency:     o.Latency,
		deny:        map[string]map[string]bool{},
		denyRoles:   map[string]bool{},
		externalIDs: map[string]string{},
		sessions:    map[string]session{},
		rng:         rand.New(rand.NewPCG(uint64(o.Seed), 0x65633273696d)),
		throttle:    o.Throttle,
		errorRate:   o.ErrorRate,
		failRate:    o.FailRate,
		images:      map[string]*afi{},
		tokens:      map[tokenKey]tokenEntry{},
		deleted:     map[string]bool{},
		buckets:     map[bucketKey]*bucket{},
		faults:      map[string][]fault{},
		calls:       map[callKey]int{},
		retries:     map[retryKey]int{},
		logCalls:    o.CallLog,
		afiLimit:    o.AFILimit,
	}
	if s.clock == nil {
		s.clock = realClock{}
	}
	if s.copyTime == 0 {
		s.copyTime = DefaultCopyTime
	}
	if s.buildTime == 0 {
		s.buildTime = DefaultBuildTime
	}
	if s.defAccount == "" {
		s.defAccount = DefaultAccount
	}
	if s.scale <= 0 {
		s.scale = 1
	}
	for k, v := range o.Accounts {
		s.accounts[k] = v
	}
	regions := o.FPGARegions
	if regions == nil {
		regions = DefaultFPGARegions
	}
	for _, r := range regions {
		s.fpgaRegions[r] = true
	}
	for _, acct := range o.DenyAssumeRole {
		s.denyRoles[acct] = true
	}
	for arn, id := range o.ExternalIDs {
		s.externalIDs[arn] = id
	}
	for acct, actions := range o.Deny {
		m := map[string]bool{}
		for _, a := range actions {
			m[a] = true
		}
		s.deny[acct] = m
	}
	return s
}

// Changes counts the calls that changed the simulated world (every
// successful action but the Describe ones and STS, and AddImage). A caller
// that persists the world saves it when the count moves.
func (s *Sim) Changes() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changes
}

// SetAFILimit changes Options.AFILimit (0: no limit).
func (s *Sim) SetAFILimit(n int) {
	s.mu.Lock()
	s.afiLimit = n
	s.mu.Unlock()
}

// SetFailRate changes Options.FailRate.
func (s *Sim) SetFailRate(p float64) {
	s.mu.Lock()
	s.failRate = p
	s.mu.Unlock()
}

// SetErrorRate changes Options.ErrorRate.
func (s *Sim) SetErrorRate(p float64) {
	s.mu.Lock()
	s.errorRate = p
	s.mu.Unlock()
}

// SetThrottle turns the token buckets on or off. Turning them on starts
// every bucket full.
func (s *Sim) SetThrottle(on bool) {
	s.mu.Lock()
	s.throttle = on
	s.buckets = map[bucketKey]*bucket{}
	s.mu.Unlock()
}

// Now returns the simulator's current time.
func (s *Sim) Now() time.Time { return s.clock.Now() }

// FPGARegion reports whether region accepts FPGA calls.
func (s *Sim) FPGARegion(region string) bool { return s.fpgaRegions[region] }

// apiError is an error answer: EC2's Code and Message, and the HTTP status.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errf(status int, code, format string, args ...any) *apiError {
	return &apiError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Messages of common EC2 errors.
const (
	msgThrottled   = "Request limit exceeded."
	msgDryRun      = "Request would have succeeded, but DryRun flag is set."
	msgUnauthorize = "You are not authorized to perform this operation."
	msgInternal    = "An internal error has occurred"
	msgUnavailable = "The service is unavailable. Please try again shortly."
	msgIdempotent  = "Arguments on this idempotent request are inconsistent with arguments used in previous request(s)."
)

// CodeAFILimit is the error code of a CreateFpgaImage or CopyFpgaImage past
// Options.AFILimit. AWS documents no code for this refusal; the simulator
// assumes EC2's generic ResourceLimitExceeded ("You have exceeded an Amazon
// EC2 resource limit"), status 400, not retried by the SDKs.
const CodeAFILimit = "ResourceLimitExceeded"

// defaultMessage gives InjectFault a message for well-known codes.
func defaultMessage(code string) string {
	switch code {
	case "RequestLimitExceeded":
		return msgThrottled
	case "DryRunOperation":
		return msgDryRun
	case "UnauthorizedOperation":
		return msgUnauthorize
	case "InternalError":
		return msgInternal
	case "Unavailable", "ServiceUnavailable":
		return msgUnavailable
	case "IdempotentParameterMismatch":
		return msgIdempotent
	}
	return "Simulated fault: " + code
}

// call is one parsed request.
type call struct {
	ctx     context.Context
	form    url.Values
	action  string
	region  string
	account string
	akid    string
	now     time.Time
}

func (c *call) str(k string) string { return strings.TrimSpace(c.form.Get(k)) }

func (c *call) has(k string) bool { _, ok := c.form[k]; return ok }

// dryRun reports DryRun=true; checkBools has refused other values.
func (c *call) dryRun() bool { return strings.EqualFold(c.form.Get("DryRun"), "true") }

// list returns the values of prefix.1, prefix.2, … in numeric order.
func (c *call) list(prefix string) []string {
	idx := c.indexes(prefix)
	out := make([]string, 0, len(idx))
	for _, i := range idx {
		out = append(out, c.form.Get(prefix+"."+strconv.Itoa(i)))
	}
	return out
}

// indexes returns the sorted distinct N of every key prefix.N or prefix.N.*.
func (c *call) indexes(prefix string) []int {
	seen := map[int]bool{}
	p := prefix + "."
	for k := range c.form {
		if !strings.HasPrefix(k, p) {
			continue
		}
		rest := k[len(p):]
		if i := strings.IndexByte(rest, '.'); i >= 0 {
			rest = rest[:i]
		}
		if n, err := strconv.Atoi(rest); err == nil && n > 0 {
			seen[n] = true
		}
	}
	out := make([]int, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Ints(out)
	return out
}

// ec2Actions maps each EC2 action to its handler.
var ec2Actions = map[string]func(*Sim, *call) (any, *apiError){
	"CopyFpgaImage":              (*Sim).copyFpgaImage,
	"CreateFpgaImage":            (*Sim).createFpgaImage,
	"CreateTags":                 (*Sim).createTags,
	"DeleteFpgaImage":            (*Sim).deleteFpgaImage,
	"DeleteTags":                 (*Sim).deleteTags,
	"DescribeFpgaImageAttribute": (*Sim).describeFpgaImageAttribute,
	"DescribeFpgaImages":         (*Sim).describeFpgaImages,
	"DescribeRegions":            (*Sim).describeRegions,
	"DescribeTags":               (*Sim).describeTags,
	"ModifyFpgaImageAttribute":   (*Sim).modifyFpgaImageAttribute,
	"ResetFpgaImageAttribute":    (*Sim).resetFpgaImageAttribute,
}

// fpgaAction reports whether an action is refused outside the FPGA Regions.
func fpgaAction(a string) bool { return strings.Contains(a, "Fpga") }

// ServeHTTP answers one EC2 Query (or STS GetCallerIdentity) request, or one
// of the /_sim/ control endpoints.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sim/") {
		s.serveControl(w, r)
		return
	}
	if s.latency > 0 {
		t := time.NewTimer(s.latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	if t := r.Header.Get("X-Amz-Target"); strings.HasPrefix(t, quotasTargetPrefix) && r.Method == http.MethodPost {
		s.serveQuotas(w, r, t)
		return
	}
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		s.badMethod(w, r)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		s.writeEC2Error(w, "", errf(400, "MalformedQueryString", "The query string could not be parsed: %v", err))
		return
	}
	c := &call{ctx: r.Context(), form: r.Form, action: r.Form.Get("Action")}
	akid, region, service := credentialScope(r)
	c.akid, c.region = akid, region
	sts := service == "sts" || r.Form.Get("Version") == stsVersion
	attempt := attemptOf(r.Header.Get("amz-sdk-request"))

	s.mu.Lock()
	c.now = s.clock.Now()
	requestID := s.newRequestID()
	if attempt > 1 {
		s.retries[retryKey{c.action, c.region}]++
	}
	var (
		resp any
		aerr *apiError
	)
	switch {
	case akid == "":
		aerr = errf(401, "MissingAuthenticationToken", "The request must contain either a valid (registered) AWS access key ID or X.509 certificate.")
	case sts:
		c.account = s.accountOf(akid)
		resp, aerr = s.stsCall(c)
	default:
		c.account = s.accountOf(akid)
		resp, aerr = s.ec2Call(c)
	}
	outcome := "ok"
	if aerr != nil {
		outcome = aerr.Code
	} else if !sts && !strings.HasPrefix(c.action, "Describe") {
		s.changes++
	}
	s.calls[callKey{c.action, c.region, outcome}]++
	if s.logCalls {
		s.log = append(s.log, Call{Time: c.now, Action: c.action, Region: c.region, Account: c.account, Outcome: outcome, Attempt: attempt})
	}
	s.mu.Unlock()

	if sts {
		if aerr != nil {
			writeSTSError(w, requestID, aerr)
			return
		}
		writeSTS(w, c.action, requestID, resp)
		return
	}
	if aerr != nil {
		s.writeEC2Error(w, requestID, aerr)
		return
	}
	writeEC2(w, c.action, requestID, resp)
}

// badMethod answers a request that is neither POST nor GET: 405 with Allow,
// in the error format of the service its signature names (EC2 unless STS).
// The code UnsupportedHttpVerb is the simulator's choice.
func (s *Sim) badMethod(w http.ResponseWriter, r *http.Request) {
	_, region, service := credentialScope(r)
	s.mu.Lock()
	requestID := s.newRequestID()
	s.calls[callKey{r.URL.Query().Get("Action"), region, "UnsupportedHttpVerb"}]++
	s.mu.Unlock()
	w.Header().Set("Allow", "GET, POST")
	e := errf(http.StatusMethodNotAllowed, "UnsupportedHttpVerb", "The HTTP method %s is not supported; send Query requests with POST or GET.", r.Method)
	if service == "sts" {
		writeSTSError(w, requestID, e)
		return
	}
	s.writeEC2Error(w, requestID, e)
}

// ec2Call runs one EC2 action with s.mu held: faults, throttling, malformed
// Booleans, denial and dry run first, then the action itself.
func (s *Sim) ec2Call(c *call) (any, *apiError) {
	if c.action == "" {
		return nil, errf(400, "MissingAction", "The request must contain the parameter Action.")
	}
	h, ok := ec2Actions[c.action]
	if !ok || (fpgaAction(c.action) && !s.fpgaRegions[c.region]) {
		return nil, errf(400, "InvalidAction", "The action %s is not valid for this web service.", c.action)
	}
	if q := s.faults[c.action]; len(q) > 0 {
		f := q[0]
		if f.n--; f.n <= 0 {
			s.faults[c.action] = q[1:]
		} else {
			q[0] = f
		}
		return nil, &apiError{Status: f.status, Code: f.code, Message: defaultMessage(f.code)}
	}
	if s.throttle && !s.take(c) {
		return nil, errf(503, "RequestLimitExceeded", msgThrottled)
	}
	if s.errorRate > 0 && s.rng.Float64() < s.errorRate {
		if s.rng.IntN(2) == 0 {
			return nil, errf(500, "InternalError", msgInternal)
		}
		return nil, errf(503, "Unavailable", msgUnavailable)
	}
	if err := c.checkBools(); err != nil {
		return nil, err
	}
	if s.deny[c.account][c.action] {
		return nil, errf(403, "UnauthorizedOperation", msgUnauthorize)
	}
	if c.dryRun() {
		return nil, errf(412, "DryRunOperation", msgDryRun)
	}
	return h(s, c)
}

func (s *Sim) accountOf(akid string) string {
	if a, ok := s.accounts[akid]; ok {
		return a
	}
	if a, ok := s.sessionAccount(akid); ok {
		return a
	}
	return s.defAccount
}

// credentialScope returns the access key ID, Region and service from a SigV4
// Authorization header (or a presigned X-Amz-Credential query parameter).
func credentialScope(r *http.Request) (akid, region, service string) {
	cred := ""
	if h := r.Header.Get("Authorization"); h != "" {
		for _, part := range strings.FieldsFunc(h, func(r rune) bool { return r == ',' || r == ' ' }) {
			if v, ok := strings.CutPrefix(part, "Credential="); ok {
				cred = v
			}
		}
	} else {
		cred = r.URL.Query().Get("X-Amz-Credential")
	}
	f := strings.Split(cred, "/")
	if len(f) != 5 || f[0] == "" || f[4] != "aws4_request" {
		return "", "", ""
	}
	return f[0], f[2], f[3]
}

// attemptOf parses "attempt=N; max=M" from the amz-sdk-request header.
func attemptOf(h string) int {
	for _, part := range strings.Split(h, ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "attempt="); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

// newRequestID returns a UUID-shaped request ID, deterministic per sequence.
func (s *Sim) newRequestID() string {
	s.reqSeq++
	n := s.reqSeq
	return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", uint32(n*2654435761), uint16(n>>16), n&0xfff, (n>>12)&0xfff, n)
}

// jittered applies the configured jitter to d (NoDelay gives 0).
func (s *Sim) jittered(d time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	if s.jitter > 0 {
		d = time.Duration(float64(d) * (1 + s.jitter*(2*s.rng.Float64()-1)))
	}
	return d
}
