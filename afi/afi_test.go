package afi_test

import (
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/ec2sim"
)

func newClient(t *testing.T, o ec2sim.Options, cfg afi.Config) (*ec2sim.Sim, *afi.Client) {
	t.Helper()
	clock := ec2sim.NewManualClock(time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC))
	o.Clock = clock
	sim := ec2sim.New(o)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	cfg.Region, cfg.EndpointURL = "us-east-1", srv.URL
	cfg.Credentials = credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")
	if cfg.Backoff == nil {
		cfg.Backoff = func(attempt int, err error) time.Duration {
			clock.Advance(time.Duration(attempt) * time.Second) // the buckets refill in simulated time
			return 0
		}
	}
	if cfg.Limits == nil {
		cfg.Limits = map[string]afi.Limit{}
	}
	c, err := afi.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return sim, c
}

func TestListOwnedPaginates(t *testing.T) {
	sim, c := newClient(t, ec2sim.Options{}, afi.Config{})
	for range 1203 {
		if _, err := sim.AddImage(ec2sim.Image{Region: "us-west-2"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sim.AddImage(ec2sim.Image{Region: "us-west-2", Account: "444455556666"}); err != nil {
		t.Fatal(err)
	}
	ims, err := c.ListOwned(context.Background(), "us-west-2")
	if err != nil {
		t.Fatal(err)
	}
	if len(ims) != 1203 {
		t.Errorf("ListOwned found %d AFIs, want the caller's 1203", len(ims))
	}
	if n := sim.Stats().Count("DescribeFpgaImages", "us-west-2", "ok"); n != 2 {
		t.Errorf("%d DescribeFpgaImages calls for 1203 AFIs, want 2 pages of 1000", n)
	}
}

func TestDescribeSkipsMissingIDs(t *testing.T) {
	sim, c := newClient(t, ec2sim.Options{}, afi.Config{})
	var ids, want []string
	for i := range 450 {
		im, err := sim.AddImage(ec2sim.Image{Region: "us-east-1"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, im.ID)
		want = append(want, im.ID)
		if i%150 == 0 { // a missing ID in each batch
			ids = append(ids, "afi-0000000000000"+string(rune('a'+i/150))+"fff")
		}
	}
	found, missing, err := c.Describe(context.Background(), "us-east-1", ids)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, im := range found {
		got = append(got, im.ID)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("found %d AFIs, want %d", len(got), len(want))
	}
	if len(missing) != 3 {
		t.Errorf("missing = %v, want the 3 unknown IDs", missing)
	}
}

func TestCallsCountThrottles(t *testing.T) {
	sim, c := newClient(t, ec2sim.Options{Throttle: true}, afi.Config{})
	src, err := sim.AddImage(ec2sim.Image{Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	// 60 copies at once against a bucket of 50: some are throttled, the
	// SDK retries them, all succeed.
	for i := range 60 {
		if _, err := c.Copy(context.Background(), afi.CopyInput{SourceRegion: "us-east-1", SourceAFI: src.ID, Region: "us-west-2",
			ClientToken: "t" + string(rune('A'+i))}); err != nil {
			t.Fatal(err)
		}
	}
	var cs afi.CallCount
	for _, s := range c.Calls() {
		if s.Region == "us-west-2" && s.Action == "CopyFpgaImage" {
			cs = s.CallCount
		}
	}
	throttled := sim.Stats().Count("CopyFpgaImage", "us-west-2", "RequestLimitExceeded")
	if throttled == 0 || cs.Throttled != throttled || cs.Attempts != 60+throttled || cs.Errors != 0 {
		t.Errorf("client counted %+v; simulator throttled %d", cs, throttled)
	}
}

func TestExplainUnreachableEndpoint(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close() // nobody listens there now
	c, err := afi.New(context.Background(), afi.Config{
		Region: "us-east-1", EndpointURL: url, MaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Account(context.Background())
	for _, want := range []string{"cannot reach " + url, "connection refused", "--endpoint-url"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Account() error %v; want it to say %q", err, want)
		}
	}
	var se *afi.SetupError
	if !errors.As(err, &se) || se.Unwrap() == nil {
		t.Errorf("error %v is not a SetupError keeping the SDK's error", err)
	}
}

func TestStalledAttemptIsNamed(t *testing.T) {
	// An endpoint that accepts and never answers: each attempt is
	// abandoned after AttemptTimeout, and the error names the call and
	// the endpoint.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	url := "http://" + ln.Addr().String()
	c, err := afi.New(context.Background(), afi.Config{
		Region: "us-east-1", EndpointURL: url, MaxAttempts: 2, AttemptTimeout: 50 * time.Millisecond,
		Backoff:     func(int, error) time.Duration { return 0 },
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Account(context.Background())
	for _, want := range []string{"cannot reach " + url, "GetCallerIdentity in us-east-1 had no answer within 50ms"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Account() error %v; want it to say %q", err, want)
		}
	}
	if n := c.Calls(); len(n) != 1 || n[0].Attempts != 2 {
		t.Errorf("calls %+v; want 2 attempts of GetCallerIdentity", n)
	}
}

func TestThrottlingOutlastsTheSDKsAttempts(t *testing.T) {
	// More throttled answers in a row than the SDK's 8 attempts: afisync
	// keeps going (with the request body rewound each round) until the
	// call goes through; only the context could end it.
	sim, c := newClient(t, ec2sim.Options{}, afi.Config{})
	src, err := sim.AddImage(ec2sim.Image{Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	sim.InjectFault("CopyFpgaImage", 20, "RequestLimitExceeded", 503)
	id, err := c.Copy(context.Background(), afi.CopyInput{SourceRegion: "us-east-1", SourceAFI: src.ID, Region: "us-west-2", ClientToken: "t-1"})
	if err != nil || id == "" {
		t.Fatalf("Copy after 20 throttled answers: %q, %v", id, err)
	}
	st := c.Calls()
	if len(st) != 1 || st[0].Attempts != 21 || st[0].Throttled != 20 {
		t.Errorf("calls %+v, want 21 attempts of which 20 throttled", st)
	}
	ctx, cancel := context.WithCancel(context.Background())
	waits := 0
	sim2, c2 := newClient(t, ec2sim.Options{}, afi.Config{Backoff: func(int, error) time.Duration {
		if waits++; waits == 30 {
			cancel() // the run's deadline, or an interrupt
		}
		return 0
	}})
	src2, err := sim2.AddImage(ec2sim.Image{Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	sim2.InjectFault("CopyFpgaImage", 1000, "RequestLimitExceeded", 503)
	if _, err := c2.Copy(ctx, afi.CopyInput{SourceRegion: "us-east-1", SourceAFI: src2.ID, Region: "us-west-2", ClientToken: "t-2"}); err == nil {
		t.Error("a call throttled for ever returned no error when its context ended")
	}
}
