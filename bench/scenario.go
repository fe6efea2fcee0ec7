package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/ec2sim"
	"github.com/afisync/afisync/executor"
	"github.com/afisync/afisync/report"
)

// Defaults of the throttled scenarios.
const (
	// DefaultScale speeds EC2's refill rates (and afisync's pacing) up ten
	// times and divides latency by ten.
	DefaultScale = 10
	// DefaultLatency is the per-call latency a client sees from EC2 before
	// scaling: a typical figure for a mutating EC2 call from a host in
	// another region (the server-side work plus one round trip).
	DefaultLatency = 100 * time.Millisecond
)

// Scenario is one throttled sync: AFIs sources copied to Regions regions
// against EC2's buckets sped up Scale times, with Latency per call (divided
// by Scale).
type Scenario struct {
	AFIs, Regions int
	Scale         float64       // 0: DefaultScale
	Latency       time.Duration // unscaled; 0: DefaultLatency; negative: none
	// Concurrency overrides executor.DefaultConcurrency when positive.
	Concurrency int
	// Selector writes the plan as one name selector (always so beyond
	// the plan format's 1000 entries).
	Selector bool
	// InMemory serves the simulator in-process (EnvOptions.InMemory) and
	// keeps its call log in Result.Log: what tests use, inside a
	// testing/synctest bubble, to check pacing on a fake clock.
	InMemory bool
}

// Name is "N×R".
func (s Scenario) Name() string { return fmt.Sprintf("%d×%d", s.AFIs, s.Regions) }

func (s Scenario) fill() Scenario {
	if s.Scale <= 0 {
		s.Scale = DefaultScale
	}
	if s.Latency == 0 {
		s.Latency = DefaultLatency
	}
	return s
}

// env starts the scenario's simulator: real clock, EC2's buckets scaled,
// scaled latency, copies that finish at once (the scenarios measure the
// sync, not AWS's copy time).
func (s Scenario) env() (*Env, error) {
	lat := time.Duration(0)
	if s.Latency > 0 {
		lat = time.Duration(float64(s.Latency) / s.Scale)
	}
	return NewEnv(EnvOptions{AFIs: s.AFIs, Regions: s.Regions, Selector: s.Selector, InMemory: s.InMemory, Sim: ec2sim.Options{
		Throttle:      true,
		ThrottleScale: s.Scale,
		Latency:       lat,
		CopyTime:      ec2sim.NoDelay,
		CallLog:       true, // for Result.Phases
	}})
}

// Result is what one measured run produced.
type Result struct {
	Scenario string
	Tool     string // "afisync" or "naive"
	Targets  int
	Wall     time.Duration // scaled time (inside a synctest bubble, on its fake clock)
	Ideal    time.Duration // throttle-bound ideal, scaled time
	Calls    CallCounts
	MinCalls int
	// Failed counts targets the run reported as failed, skipped or timed
	// out (for the naive script: copies that returned an error).
	Failed   int
	PeakHeap uint64 // bytes; the in-process simulator's world included
	Inv      Invariants
	// Log is the simulator's call log.
	Log []ec2sim.Call
	// Phases splits an afisync run's wall time at its copies (nil when
	// it made none).
	Phases *Phases
}

// Ratio is Wall / Ideal, or 0 when the ideal is 0 (the buckets never
// empty, so the scenario is not throttle-bound).
func (r Result) Ratio() float64 {
	if r.Ideal <= 0 {
		return 0
	}
	return float64(r.Wall) / float64(r.Ideal)
}

// ThrottledShare is throttled responses per call.
func (r Result) ThrottledShare() float64 {
	if r.Calls.Total == 0 {
		return 0
	}
	return float64(r.Calls.Throttled) / float64(r.Calls.Total)
}

// CallOverhead is calls made over the minimum, as a fraction of it.
func (r Result) CallOverhead() float64 {
	if r.MinCalls == 0 {
		return 0
	}
	return float64(r.Calls.Total-r.MinCalls) / float64(r.MinCalls)
}

// RunAfisync runs one full sync (executor.Run, no --wait: copies started and
// tagged) of a fresh scenario with afisync's default settings and pacing
// scaled like the simulator.
func RunAfisync(ctx context.Context, s Scenario) (Result, error) {
	s = s.fill()
	e, err := s.env()
	if err != nil {
		return Result{}, err
	}
	defer e.Close()
	c, err := e.Client(ctx, afi.Config{RateScale: s.Scale})
	if err != nil {
		return Result{}, err
	}
	res := Result{Scenario: s.Name(), Tool: "afisync", Targets: e.Targets(), MinCalls: e.MinCalls(), Ideal: Ideal(e.MissingPerRegion(), s.Scale)}
	// As the CLI does: the plan's settings, else sync's defaults.
	var ov executor.Overrides
	if s.Concurrency > 0 {
		ov.Concurrency = &s.Concurrency
	}
	o := executor.Resolve(e.Plan, ov, executor.Options{})
	pk := startPeak()
	start := time.Now()
	rep, err := executor.Run(ctx, c, e.Plan, o)
	end := time.Now()
	res.Wall = end.Sub(start)
	res.PeakHeap = pk.stop()
	if err != nil {
		return res, err
	}
	res.Failed = badTargets(rep)
	res.Calls = e.Calls()
	res.Inv = e.Check(rep)
	res.Log = e.Sim.CallLog()
	if p, ok := phasesOf(res.Log, start, end, s.Scale); ok {
		res.Phases = &p
	}
	return res, nil
}

func badTargets(rep *report.Report) int {
	n := 0
	for _, t := range rep.Targets {
		if t.Status.Bad() {
			n++
		}
	}
	return n
}

// RunNaive runs the baseline users write today (docs/users.md §4) against a
// fresh scenario: for each AFI, describe it in the source region to learn its
// AGFI; then for each region, in sequence, describe by AGFI there and copy
// when nothing is found. It uses the SDK's defaults (standard retryer, 3
// attempts, its own backoff: not scaled), no pacing, no ClientToken, no tags.
func RunNaive(ctx context.Context, s Scenario) (Result, error) {
	s = s.fill()
	e, err := s.env()
	if err != nil {
		return Result{}, err
	}
	defer e.Close()
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(SourceRegion),
		config.WithBaseEndpoint(e.URL),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDBENCH", "secret", "")),
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return Result{}, err
	}
	if hc := e.HTTPClient(); hc != nil {
		cfg.HTTPClient = hc
	}
	clients := map[string]*ec2.Client{}
	client := func(region string) *ec2.Client {
		if c, ok := clients[region]; ok {
			return c
		}
		c := ec2.NewFromConfig(cfg, func(o *ec2.Options) { o.Region = region })
		clients[region] = c
		return c
	}
	// The naive script makes no tagging calls, so its minimum is one
	// describe per source, and one describe and one copy per target.
	res := Result{Scenario: s.Name(), Tool: "naive", Targets: e.Targets(), Ideal: Ideal(e.MissingPerRegion(), s.Scale)}
	res.MinCalls = len(e.Sources) + 2*e.Targets()
	pk := startPeak()
	start := time.Now()
	for _, src := range e.Sources {
		out, err := client(SourceRegion).DescribeFpgaImages(ctx, &ec2.DescribeFpgaImagesInput{FpgaImageIds: []string{src}})
		if err != nil || len(out.FpgaImages) == 0 {
			res.Failed += len(e.Dests)
			continue
		}
		agfi := aws.ToString(out.FpgaImages[0].FpgaImageGlobalId)
		for _, r := range e.Dests {
			have, err := client(r).DescribeFpgaImages(ctx, &ec2.DescribeFpgaImagesInput{
				Owners:  []string{"self"},
				Filters: []ec2types.Filter{{Name: aws.String("fpga-image-global-id"), Values: []string{agfi}}},
			})
			if err == nil && len(have.FpgaImages) > 0 {
				continue
			}
			if _, err := client(r).CopyFpgaImage(ctx, &ec2.CopyFpgaImageInput{
				SourceFpgaImageId: aws.String(src),
				SourceRegion:      aws.String(SourceRegion),
			}); err != nil {
				if errors.Is(err, context.Canceled) {
					return res, err
				}
				res.Failed++
			}
		}
	}
	res.Wall = time.Since(start)
	res.PeakHeap = pk.stop()
	res.Calls = e.Calls()
	res.Inv = e.Check()
	res.Log = e.Sim.CallLog()
	// The naive script does not tag, so nothing it makes "converges" in
	// afisync's sense; count a target as converged when it has exactly one
	// live copy.
	res.Inv.Converged = res.Inv.Targets - res.Inv.Lost - res.Inv.Duplicates
	return res, nil
}

// peak samples the live heap until stopped and keeps the highest value.
type peak struct {
	done chan struct{}
	wg   sync.WaitGroup
	max  uint64
}

const heapMetric = "/memory/classes/heap/objects:bytes"

func startPeak() *peak {
	runtime.GC()
	p := &peak{done: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		s := []metrics.Sample{{Name: heapMetric}}
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if s[0].Value.Kind() == metrics.KindUint64 {
				p.max = max(p.max, s[0].Value.Uint64())
			}
			select {
			case <-p.done:
				return
			case <-t.C:
			}
		}
	}()
	return p
}

func (p *peak) stop() uint64 {
	close(p.done)
	p.wg.Wait()
	return p.max
}
