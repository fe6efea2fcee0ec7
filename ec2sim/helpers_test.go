package ec2sim_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/afisync/afisync/ec2sim"
)

// t0 is the tests' starting time.
var t0 = time.Date(2026, 11, 25, 18, 0, 0, 0, time.UTC)

// Accounts used by the tests: the default account and two others.
const (
	acctA = "111122223333" // default account (key AKIDA or any unknown key)
	acctB = "444455556666" // key AKIDB
	acctC = "777788889999" // key AKIDC
)

// recorded holds every successful EC2 response body the tests produced,
// per action, for the conformance check.
var recorded struct {
	sync.Mutex
	bodies map[string][][]byte
}

func record(action string, body []byte) {
	recorded.Lock()
	defer recorded.Unlock()
	if recorded.bodies == nil {
		recorded.bodies = map[string][][]byte{}
	}
	if len(recorded.bodies[action]) < 200 {
		recorded.bodies[action] = append(recorded.bodies[action], bytes.Clone(body))
	}
}

// env is a simulator on a ManualClock served by httptest.
type env struct {
	t     *testing.T
	sim   *ec2sim.Sim
	clock *ec2sim.ManualClock
	srv   *httptest.Server
}

// newEnv starts a simulator. Unless o says otherwise it uses a ManualClock at
// t0, CopyTime 1m, BuildTime 10m and knows the keys AKIDB and AKIDC.
func newEnv(t *testing.T, o ec2sim.Options) *env {
	t.Helper()
	clock := ec2sim.NewManualClock(t0)
	if o.Clock == nil {
		o.Clock = clock
	}
	if o.CopyTime == 0 {
		o.CopyTime = time.Minute
	}
	if o.Accounts == nil {
		o.Accounts = map[string]string{"AKIDB": acctB, "AKIDC": acctC}
	}
	e := &env{t: t, sim: ec2sim.New(o), clock: clock}
	e.srv = httptest.NewServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.srv.Close)
	return e
}

// serve passes the request to the simulator and records 200 EC2 bodies.
func (e *env) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	e.sim.ServeHTTP(rec, r)
	form, _ := url.ParseQuery(string(body))
	if rec.Code == 200 && form.Get("Version") == "2016-11-15" {
		record(form.Get("Action"), rec.Body.Bytes())
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(rec.Body.Bytes())
}

// noBackoff retries at once, without the client-side retry quota.
func noBackoff(so *retry.StandardOptions) {
	so.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
	so.RateLimiter = ratelimit.None
}

// ec2 returns a real aws-sdk-go-v2 EC2 client for region, signing with akid
// (default: an unknown key, so the default account).
func (e *env) ec2(region string, akid ...string) *ec2.Client {
	key := "AKIDEXAMPLE"
	if len(akid) > 0 {
		key = akid[0]
	}
	return ec2.New(ec2.Options{
		Region:       region,
		BaseEndpoint: aws.String(e.srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(key, "secret", ""),
		HTTPClient:   e.srv.Client(),
		Retryer:      retry.NewStandard(noBackoff),
	})
}

// noRetry is a per-call option that makes a single attempt.
func noRetry(o *ec2.Options) { o.RetryMaxAttempts = 1 }

// add stores an AFI or fails the test.
func (e *env) add(img ec2sim.Image) ec2sim.Image {
	e.t.Helper()
	out, err := e.sim.AddImage(img)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// describe returns the single AFI id as the SDK sees it in region.
func (e *env) describe(c *ec2.Client, id string) types.FpgaImage {
	e.t.Helper()
	out, err := c.DescribeFpgaImages(context.Background(), &ec2.DescribeFpgaImagesInput{FpgaImageIds: []string{id}})
	if err != nil {
		e.t.Fatalf("DescribeFpgaImages %s: %v", id, err)
	}
	if len(out.FpgaImages) != 1 {
		e.t.Fatalf("DescribeFpgaImages %s: got %d images", id, len(out.FpgaImages))
	}
	return out.FpgaImages[0]
}

// apiErr checks that err is an EC2 API error with code, HTTP status and (if
// not empty) message, as the SDK parsed it.
func apiErr(t *testing.T, err error, code string, status int, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want API error %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Errorf("code = %q, want %q (message %q)", ae.ErrorCode(), code, ae.ErrorMessage())
	}
	if msg != "" && ae.ErrorMessage() != msg {
		t.Errorf("message = %q, want %q", ae.ErrorMessage(), msg)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("no awshttp.ResponseError in %v", err)
	}
	if re.HTTPStatusCode() != status {
		t.Errorf("HTTP status = %d, want %d", re.HTTPStatusCode(), status)
	}
	if re.ServiceRequestID() == "" {
		t.Errorf("no request ID in %v", err)
	}
}

var ctx = context.Background()

func copyInput(src, srcRegion, token string) *ec2.CopyFpgaImageInput {
	in := &ec2.CopyFpgaImageInput{SourceFpgaImageId: aws.String(src), SourceRegion: aws.String(srcRegion)}
	if token != "" {
		in.ClientToken = aws.String(token)
	}
	return in
}
