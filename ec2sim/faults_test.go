package ec2sim_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/afisync/afisync/ec2sim"
)

// TestErrorsParse checks that each error reaches the SDK as a smithy.APIError
// with EC2's code, message and HTTP status.
func TestErrorsParse(t *testing.T) {
	e := newEnv(t, ec2sim.Options{Deny: map[string][]string{acctB: {"CopyFpgaImage"}}})
	src := e.add(ec2sim.Image{Region: "us-east-1"})
	copyIn := &ec2.CopyFpgaImageInput{SourceFpgaImageId: aws.String(src.ID), SourceRegion: aws.String("us-east-1")}
	for _, tc := range []struct {
		name   string
		call   func() error
		code   string
		status int
		msg    string
	}{
		{"throttled", func() error {
			e.sim.InjectFault("CopyFpgaImage", 1, "RequestLimitExceeded", 503)
			_, err := e.ec2("us-west-2").CopyFpgaImage(ctx, copyIn, noRetry)
			return err
		}, "RequestLimitExceeded", 503, "Request limit exceeded."},
		{"internal error", func() error {
			e.sim.InjectFault("DescribeFpgaImages", 1, "InternalError", 500)
			_, err := e.ec2("us-west-2").DescribeFpgaImages(ctx, &ec2.DescribeFpgaImagesInput{}, noRetry)
			return err
		}, "InternalError", 500, "An internal error has occurred"},
		{"dry run", func() error {
			_, err := e.ec2("us-west-2").CopyFpgaImage(ctx, &ec2.CopyFpgaImageInput{SourceFpgaImageId: aws.String(src.ID), SourceRegion: aws.String("us-east-1"), DryRun: aws.Bool(true)})
			return err
		}, "DryRunOperation", 412, "Request would have succeeded, but DryRun flag is set."},
		{"denied", func() error {
			_, err := e.ec2("us-west-2", "AKIDB").CopyFpgaImage(ctx, copyIn)
			return err
		}, "UnauthorizedOperation", 403, "You are not authorized to perform this operation."},
		{"denied dry run", func() error {
			_, err := e.ec2("us-west-2", "AKIDB").CopyFpgaImage(ctx, &ec2.CopyFpgaImageInput{SourceFpgaImageId: aws.String(src.ID), SourceRegion: aws.String("us-east-1"), DryRun: aws.Bool(true)})
			return err
		}, "UnauthorizedOperation", 403, ""},
		{"dry run of a describe", func() error {
			_, err := e.ec2("us-east-1").DescribeFpgaImages(ctx, &ec2.DescribeFpgaImagesInput{DryRun: aws.Bool(true)})
			return err
		}, "DryRunOperation", 412, ""},
		{"FPGA call in a Region without FPGAs", func() error {
			_, err := e.ec2("us-east-2").DescribeFpgaImages(ctx, &ec2.DescribeFpgaImagesInput{})
			return err
		}, "InvalidAction", 400, "The action DescribeFpgaImages is not valid for this web service."},
		{"copy into a Region without FPGAs", func() error {
			_, err := e.ec2("ap-south-1").CopyFpgaImage(ctx, copyIn)
			return err
		}, "InvalidAction", 400, "The action CopyFpgaImage is not valid for this web service."},
		{"delete of an unknown AFI", func() error {
			_, err := e.ec2("us-east-1").DeleteFpgaImage(ctx, &ec2.DeleteFpgaImageInput{FpgaImageId: aws.String("afi-03d027a3318440a77")})
			return err
		}, "InvalidFpgaImageID.NotFound", 400, "Image ID 'afi-03d027a3318440a77' not found"},
		{"unknown source Region", func() error {
			_, err := e.ec2("us-west-2").CopyFpgaImage(ctx, &ec2.CopyFpgaImageInput{SourceFpgaImageId: aws.String(src.ID), SourceRegion: aws.String("us-east-9")})
			return err
		}, "InvalidParameterValue", 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			apiErr(t, tc.call(), tc.code, tc.status, tc.msg)
		})
	}
	if n := len(e.sim.Images("", "us-west-2")); n != 0 {
		t.Errorf("failed calls created %d AFIs", n)
	}
	st := e.sim.Stats()
	for _, c := range []struct {
		action, region, outcome string
		n                       int
	}{
		{"CopyFpgaImage", "us-west-2", "DryRunOperation", 1},
		{"CopyFpgaImage", "us-west-2", "UnauthorizedOperation", 2},
		{"CopyFpgaImage", "", "RequestLimitExceeded", 1},
		{"DescribeFpgaImages", "us-east-2", "InvalidAction", 1},
		{"", "", "ok", 0},
	} {
		if got := st.Count(c.action, c.region, c.outcome); got != c.n {
			t.Errorf("Count(%q,%q,%q) = %d, want %d", c.action, c.region, c.outcome, got, c.n)
		}
	}
}

// TestThrottling empties EC2's bucket and checks the SDK's retries.
func TestThrottling(t *testing.T) {
	e := newEnv(t, ec2sim.Options{Throttle: true})
	west := e.ec2("us-west-2")
	describe := func() error {
		_, err := west.DescribeFpgaImages(ctx, &ec2.DescribeFpgaImagesInput{})
		return err
	}
	for i := range 100 {
		if err := describe(); err != nil {
			t.Fatalf("call %d within the bucket: %v", i+1, err)
		}
	}
	// The clock stands still: the SDK tries 3 times, all throttled.
	apiErr(t, describe(), "RequestLimitExceeded", 503, "Request limit exceeded.")
	st := e.sim.Stats()
	if st.Count("DescribeFpgaImages", "us-west-2", "RequestLimitExceeded") != 3 || st.RetriesOf("DescribeFpgaImages", "us-west-2") != 2 {
		t.Errorf("stats after a throttled call: %+v", st)
	}
	// Other Regions, accounts and actions have buckets of their own.
	if _, err := e.ec2("eu-west-1").DescribeFpgaImages(ctx, &ec2.DescribeFpgaImagesInput{}); err != nil {
		t.Errorf("other region throttled: %v", err)
	}
	if _, err := e.ec2("us-west-2", "AKIDB").DescribeFpgaImages(ctx, &ec2.DescribeFpgaImagesInput{}); err != nil {
		t.Errorf("other account throttled: %v", err)
	}
	// Refill is 20/s: half a second gives 10 calls.
	e.clock.Advance(500 * time.Millisecond)
	ok := 0
	for range 15 {
		if _, err := west.DescribeFpgaImages(ctx, &ec2.DescribeFpgaImagesInput{}, noRetry); err == nil {
			ok++
		}
	}
	if ok != 10 {
		t.Errorf("after 0.5s, %d calls passed, want 10", ok)
	}
	// Mutating calls: 50, refill 5/s.
	src := e.add(ec2sim.Image{Region: "us-west-2"})
	copies := 0
	for range 60 {
		if _, err := west.CopyFpgaImage(ctx, &ec2.CopyFpgaImageInput{SourceFpgaImageId: aws.String(src.ID), SourceRegion: aws.String("us-west-2")}, noRetry); err == nil {
			copies++
		}
	}
	if copies != 50 {
		t.Errorf("CopyFpgaImage bucket let %d through, want 50", copies)
	}
}

func TestThrottleScaleAndRetrySuccess(t *testing.T) {
	e := newEnv(t, ec2sim.Options{Throttle: true, ThrottleScale: 10})
	west := e.ec2("us-west-2")
	for range 100 {
		west.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{"afi-0123456789abcdef0"}, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}, noRetry)
	}
	_, err := west.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{"afi-0123456789abcdef0"}, Tags: []types.Tag{{Key: aws.String("k")}}}, noRetry)
	apiErr(t, err, "RequestLimitExceeded", 503, "")
	// CreateTags refills 10/s; scaled by 10, 0.1s gives 10 tokens.
	e.clock.Advance(100 * time.Millisecond)
	n := 0
	for range 12 {
		_, err := west.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{"afi-0123456789abcdef0"}, Tags: []types.Tag{{Key: aws.String("k")}}}, noRetry)
		var ae smithy.APIError
		if errors.As(err, &ae) && ae.ErrorCode() != "RequestLimitExceeded" {
			n++
		}
	}
	if n != 10 {
		t.Errorf("after 0.1s at scale 10: %d calls passed the bucket, want 10", n)
	}

	// Two injected throttles: the SDK's third attempt succeeds.
	e.sim.ResetStats()
	e.sim.InjectFault("DescribeRegions", 2, "RequestLimitExceeded", 503)
	if _, err := west.DescribeRegions(ctx, &ec2.DescribeRegionsInput{}); err != nil {
		t.Fatalf("SDK did not retry through two throttles: %v", err)
	}
	st := e.sim.Stats()
	if st.Count("DescribeRegions", "us-west-2", "RequestLimitExceeded") != 2 || st.Count("DescribeRegions", "us-west-2", "ok") != 1 || st.RetriesOf("DescribeRegions", "") != 2 {
		t.Errorf("stats: %+v", st)
	}
}

func TestRandomFaultsAreDeterministic(t *testing.T) {
	run := func() []string {
		e := newEnv(t, ec2sim.Options{ErrorRate: 0.5, Seed: 42})
		c := e.ec2("us-east-1")
		var outcomes []string
		for range 30 {
			_, err := c.DescribeFpgaImages(ctx, &ec2.DescribeFpgaImagesInput{}, noRetry)
			var ae smithy.APIError
			switch {
			case err == nil:
				outcomes = append(outcomes, "ok")
			case errors.As(err, &ae):
				outcomes = append(outcomes, ae.ErrorCode())
			default:
				t.Fatal(err)
			}
		}
		return outcomes
	}
	a, b := run(), run()
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different faults:\n%v\n%v", a, b)
	}
	seen := map[string]int{}
	for _, o := range a {
		seen[o]++
	}
	if seen["ok"] == 0 || seen["InternalError"] == 0 || seen["Unavailable"] == 0 {
		t.Errorf("ErrorRate 0.5 gave %v", seen)
	}
}

func TestFailRateAndJitter(t *testing.T) {
	e := newEnv(t, ec2sim.Options{FailRate: 1, Jitter: 0.5, Seed: 3})
	src := e.add(ec2sim.Image{Region: "us-east-1"})
	in := &ec2.CopyFpgaImageInput{SourceFpgaImageId: aws.String(src.ID), SourceRegion: aws.String("us-east-1")}
	cross, err := e.ec2("eu-west-2").CopyFpgaImage(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	same, err := e.ec2("us-east-1").CopyFpgaImage(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{aws.ToString(cross.FpgaImageId), aws.ToString(same.FpgaImageId)} {
		img, _ := e.sim.Image(id)
		if d := img.ReadyAt.Sub(t0); d < 30*time.Second || d > 90*time.Second {
			t.Errorf("jittered copy time %v outside 1m±50%%", d)
		}
	}
	e.clock.Advance(2 * time.Minute)
	if img := e.describe(e.ec2("eu-west-2"), aws.ToString(cross.FpgaImageId)); aws.ToString(img.State.Message) != ec2sim.TransientCopyFailure {
		t.Errorf("cross-region copy with FailRate 1: %+v", img.State)
	}
	if img := e.describe(e.ec2("us-east-1"), aws.ToString(same.FpgaImageId)); img.State.Code != types.FpgaImageStateCodeAvailable {
		t.Errorf("same-region copy is not subject to FailRate: %+v", img.State)
	}
	e.sim.SetFailRate(0)
	again, _ := e.ec2("eu-west-2").CopyFpgaImage(ctx, in)
	e.clock.Advance(2 * time.Minute)
	if img := e.describe(e.ec2("eu-west-2"), aws.ToString(again.FpgaImageId)); img.State.Code != types.FpgaImageStateCodeAvailable {
		t.Errorf("after SetFailRate(0): %+v", img.State)
	}
}

func TestSeedDeterminism(t *testing.T) {
	ids := func() []string {
		e := newEnv(t, ec2sim.Options{Seed: 99})
		src := e.add(ec2sim.Image{Region: "us-east-1"})
		out := []string{src.ID, src.AGFI}
		for _, r := range []string{"us-west-2", "eu-west-1"} {
			c, err := e.ec2(r).CopyFpgaImage(ctx, &ec2.CopyFpgaImageInput{SourceFpgaImageId: aws.String(src.ID), SourceRegion: aws.String("us-east-1")})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, aws.ToString(c.FpgaImageId))
		}
		return out
	}
	if a, b := ids(), ids(); !slices.Equal(a, b) {
		t.Errorf("same seed, different IDs: %v vs %v", a, b)
	}
}

func TestSTSGetCallerIdentity(t *testing.T) {
	e := newEnv(t, ec2sim.Options{})
	for _, tc := range []struct{ akid, account string }{{"AKIDB", acctB}, {"ANYTHING", acctA}} {
		c := sts.New(sts.Options{
			Region:       "us-east-1",
			BaseEndpoint: aws.String(e.srv.URL),
			Credentials:  credentials.NewStaticCredentialsProvider(tc.akid, "secret", ""),
			HTTPClient:   e.srv.Client(),
		})
		out, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.Account) != tc.account || aws.ToString(out.Arn) != "arn:aws:iam::"+tc.account+":user/ec2sim" || aws.ToString(out.UserId) != tc.akid {
			t.Errorf("%s: %+v", tc.akid, out)
		}
	}
	if e.sim.Stats().Count("GetCallerIdentity", "us-east-1", "ok") != 2 {
		t.Errorf("STS calls not counted: %+v", e.sim.Stats())
	}
}

// TestConcurrent hammers one simulator from many goroutines (run with -race).
func TestConcurrent(t *testing.T) {
	e := newEnv(t, ec2sim.Options{Throttle: true, ThrottleScale: 1000})
	src := e.add(ec2sim.Image{Region: "us-east-1"})
	regions := []string{"us-west-2", "eu-west-1", "eu-west-2", "eu-central-1"}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			c := e.ec2(regions[i%len(regions)])
			for range 10 {
				out, err := c.CopyFpgaImage(ctx, &ec2.CopyFpgaImageInput{SourceFpgaImageId: aws.String(src.ID), SourceRegion: aws.String("us-east-1"), ClientToken: aws.String("same")})
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := c.DescribeFpgaImages(ctx, &ec2.DescribeFpgaImagesInput{FpgaImageIds: []string{aws.ToString(out.FpgaImageId)}}); err != nil {
					t.Error(err)
				}
				e.clock.Advance(time.Millisecond)
			}
		})
	}
	wg.Wait()
	if n := len(e.sim.Images(acctA, "")); n != 1+len(regions) {
		t.Errorf("%d AFIs; one ClientToken per region should give %d", n, 1+len(regions))
	}
}

// TestCallLog checks the call log: every call in handling order, stamped
// with the simulator's clock, with its region, account, outcome and attempt.
func TestCallLog(t *testing.T) {
	e := newEnv(t, ec2sim.Options{CallLog: true})
	e.sim.InjectFault("DescribeRegions", 1, "RequestLimitExceeded", 503)
	if _, err := e.ec2("us-west-2").DescribeRegions(ctx, &ec2.DescribeRegionsInput{}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	if _, err := e.ec2("eu-west-1", "AKIDB").DescribeFpgaImages(ctx, &ec2.DescribeFpgaImagesInput{}); err != nil {
		t.Fatal(err)
	}
	want := []ec2sim.Call{
		{Time: t0, Action: "DescribeRegions", Region: "us-west-2", Account: acctA, Outcome: "RequestLimitExceeded", Attempt: 1},
		{Time: t0, Action: "DescribeRegions", Region: "us-west-2", Account: acctA, Outcome: "ok", Attempt: 2},
		{Time: t0.Add(time.Second), Action: "DescribeFpgaImages", Region: "eu-west-1", Account: acctB, Outcome: "ok", Attempt: 1},
	}
	if got := e.sim.CallLog(); !slices.Equal(got, want) {
		t.Errorf("call log:\n got %+v\nwant %+v", got, want)
	}
	e.sim.ResetStats()
	if got := e.sim.CallLog(); len(got) != 0 {
		t.Errorf("after ResetStats: %+v", got)
	}
	// Without Options.CallLog nothing is kept.
	off := newEnv(t, ec2sim.Options{})
	if _, err := off.ec2("us-west-2").DescribeRegions(ctx, &ec2.DescribeRegionsInput{}); err != nil {
		t.Fatal(err)
	}
	if got := off.sim.CallLog(); len(got) != 0 {
		t.Errorf("call log without Options.CallLog: %+v", got)
	}
}
