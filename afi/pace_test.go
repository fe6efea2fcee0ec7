package afi_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/ec2sim"
)

// serveSim is an http.RoundTripper that hands each request to an
// in-process simulator, so that pacing, latency and EC2's buckets all run
// on a testing/synctest bubble's fake clock.
type serveSim struct{ h http.Handler }

func (s serveSim) RoundTrip(r *http.Request) (*http.Response, error) {
	sr := r.Clone(r.Context())
	sr.RequestURI, sr.RemoteAddr = r.URL.RequestURI(), "127.0.0.1:1"
	if sr.Body == nil {
		sr.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, sr)
	if r.Body != nil {
		r.Body.Close()
	}
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// bubbleClient is a client of sim (served in-process) with cfg's pacing.
func bubbleClient(t *testing.T, sim *ec2sim.Sim, cfg afi.Config) *afi.Client {
	t.Helper()
	cfg.Region, cfg.EndpointURL = "us-east-1", "http://ec2sim.in-process"
	cfg.HTTPClient = &http.Client{Transport: serveSim{sim}}
	cfg.Credentials = credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")
	c, err := afi.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// copyAll makes n copies of src into us-west-2 from workers goroutines,
// tokens prefixed by name, and fails the test on any error.
func copyAll(t *testing.T, c *afi.Client, src, name string, n, workers int) {
	t.Helper()
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				if _, err := c.Copy(context.Background(), afi.CopyInput{SourceRegion: "us-east-1", SourceAFI: src, Region: "us-west-2",
					ClientToken: fmt.Sprintf("%s-%d", name, i)}); err != nil {
					t.Errorf("copy %d: %v", i, err)
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// copyLog is what the simulator logged of CopyFpgaImage in us-west-2:
// accepted copies' times, and how many were throttled.
func copyLog(sim *ec2sim.Sim) (ok []time.Time, throttled int) {
	for _, c := range sim.CallLog() {
		switch {
		case c.Action != "CopyFpgaImage" || c.Region != "us-west-2":
		case c.Outcome == "ok":
			ok = append(ok, c.Time)
		case c.Outcome == "RequestLimitExceeded":
			throttled++
		}
	}
	return ok, throttled
}

// TestDefaultPacingRunsAtTheBucket: alone on an account, DefaultLimits
// spend the CopyFpgaImage bucket's burst less one token at once, then run
// at its refill rate exactly, and are never throttled.
func TestDefaultPacingRunsAtTheBucket(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := ec2sim.New(ec2sim.Options{Throttle: true, Latency: 50 * time.Millisecond, CallLog: true})
		src, err := sim.AddImage(ec2sim.Image{Region: "us-east-1"})
		if err != nil {
			t.Fatal(err)
		}
		c := bubbleClient(t, sim, afi.Config{})
		const n = 120
		copyAll(t, c, src.ID, "t", n, 8)
		ok, throttled := copyLog(sim)
		b, lim := ec2sim.Buckets["CopyFpgaImage"], afi.DefaultLimits["CopyFpgaImage"]
		if lim.Rate != b.Refill || lim.Burst != int(b.Capacity)-1 {
			t.Errorf("DefaultLimits[CopyFpgaImage] = %+v; want EC2's refill %g/s and its bucket less one token, %g", lim, b.Refill, b.Capacity-1)
		}
		if len(ok) != n || throttled != 0 {
			t.Fatalf("%d copies accepted, %d throttled; want %d and 0", len(ok), throttled, n)
		}
		// The last copy leaves the pacer (n - burst) / rate after the
		// first: 14.2 s (14 s is the bucket's floor; at 96% of it, as
		// before, 15 s).
		want := time.Duration(float64(n-lim.Burst) / lim.Rate * float64(time.Second))
		if got := ok[len(ok)-1].Sub(ok[0]); got < want-50*time.Millisecond || got > want+50*time.Millisecond {
			t.Errorf("copies spanned %s, want %s ± 50ms", got, want)
		}
	})
}

// TestThrottleEmptiesThePacer: when another caller has spent the account's
// bucket, the first throttled answers empty the pacer's own bucket, so its
// burst is not thrown at EC2's empty one; every copy still succeeds.
func TestThrottleEmptiesThePacer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := ec2sim.New(ec2sim.Options{Throttle: true, Latency: 50 * time.Millisecond, CallLog: true})
		src, err := sim.AddImage(ec2sim.Image{Region: "us-east-1"})
		if err != nil {
			t.Fatal(err)
		}
		// Another tool of the same account, unpaced, spends the bucket.
		other := bubbleClient(t, sim, afi.Config{Limits: map[string]afi.Limit{}})
		copyAll(t, other, src.ID, "other", 50, 50)
		sim.ResetStats()
		const n, workers = 40, 4
		copyAll(t, bubbleClient(t, sim, afi.Config{}), src.ID, "t", n, workers)
		ok, throttled := copyLog(sim)
		if len(ok) != n {
			t.Errorf("%d copies accepted, want %d", len(ok), n)
		}
		// The workers' first calls meet the empty bucket; after that the
		// pacer waits for the refill. Without emptying it, the pacer's
		// 49-token burst would be spent on throttled answers.
		if throttled == 0 || throttled > 2*workers {
			t.Errorf("%d copies throttled; want between 1 and %d", throttled, 2*workers)
		}
	})
}
