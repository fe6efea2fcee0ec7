package ec2sim_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas"
	sqtypes "github.com/aws/aws-sdk-go-v2/service/servicequotas/types"

	"github.com/afisync/afisync/ec2sim"
)

// TestAFILimit checks Options.AFILimit through the real SDK: per account and
// Region, counting AFIs in any state, refusing Create and Copy past it with
// ResourceLimitExceeded, letting an idempotent retry through, and freeing a
// place when an AFI is deleted.
func TestAFILimit(t *testing.T) {
	e := newEnv(t, ec2sim.Options{AFILimit: 3})
	src := e.add(ec2sim.Image{Region: "us-east-1"})
	e.add(ec2sim.Image{Region: "us-west-2", State: ec2sim.StateFailed, Message: "x"})
	e.add(ec2sim.Image{Region: "us-west-2", State: ec2sim.StatePending, ReadyAt: t0.Add(1e12)})
	west := e.ec2("us-west-2")
	copyIn := func(c *ec2.Client, token string) (*ec2.CopyFpgaImageOutput, error) {
		return c.CopyFpgaImage(ctx, &ec2.CopyFpgaImageInput{SourceFpgaImageId: aws.String(src.ID), SourceRegion: aws.String("us-east-1"), ClientToken: aws.String(token)}, noRetry)
	}
	first, err := copyIn(west, "t1")
	if err != nil {
		t.Fatalf("third AFI in us-west-2: %v", err)
	}
	_, err = copyIn(west, "t2")
	apiErr(t, err, ec2sim.CodeAFILimit, 400, "")
	if !strings.Contains(err.Error(), "limit of 3") || !strings.Contains(err.Error(), "us-west-2") {
		t.Errorf("message does not name the limit and Region: %v", err)
	}
	_, err = west.CreateFpgaImage(ctx, &ec2.CreateFpgaImageInput{InputStorageLocation: &types.StorageLocation{Bucket: aws.String("b"), Key: aws.String("k.tar")}}, noRetry)
	apiErr(t, err, ec2sim.CodeAFILimit, 400, "")
	// An idempotent retry of the request that made the third AFI answers it.
	again, err := copyIn(west, "t1")
	if err != nil || aws.ToString(again.FpgaImageId) != aws.ToString(first.FpgaImageId) {
		t.Errorf("idempotent retry = %v, %v; want %s", again, err, aws.ToString(first.FpgaImageId))
	}
	// Other accounts and Regions have their own count.
	if _, err := copyIn(e.ec2("us-west-2", "AKIDB"), "t3"); err != nil {
		t.Errorf("account B in us-west-2: %v", err)
	}
	if _, err := copyIn(e.ec2("eu-west-1"), "t4"); err != nil {
		t.Errorf("eu-west-1: %v", err)
	}
	st := e.sim.Stats()
	if n := st.Count("CopyFpgaImage", "us-west-2", ec2sim.CodeAFILimit); n != 1 {
		t.Errorf("stats count %d refused copies, want 1", n)
	}
	want := []ec2sim.AFICount{
		{Account: acctA, Region: "eu-west-1", Held: 1, Limit: 3},
		{Account: acctA, Region: "us-east-1", Held: 1, Limit: 3},
		{Account: acctA, Region: "us-west-2", Held: 3, Limit: 3},
		{Account: acctB, Region: "us-west-2", Held: 1, Limit: 3},
	}
	if len(st.AFIs) != len(want) {
		t.Fatalf("Stats.AFIs = %+v, want %+v", st.AFIs, want)
	}
	for i := range want {
		if st.AFIs[i] != want[i] {
			t.Errorf("Stats.AFIs[%d] = %+v, want %+v", i, st.AFIs[i], want[i])
		}
	}
	// Deleting frees a place.
	if _, err := west.DeleteFpgaImage(ctx, &ec2.DeleteFpgaImageInput{FpgaImageId: first.FpgaImageId}); err != nil {
		t.Fatal(err)
	}
	if _, err := copyIn(west, "t5"); err != nil {
		t.Errorf("after a delete: %v", err)
	}
}

// TestServiceQuotas: GetServiceQuota of ec2/L-8FBBDF0C through the real
// SDK answers Options.AFILimit; without a limit, NoSuchResourceException.
func TestServiceQuotas(t *testing.T) {
	e := newEnv(t, ec2sim.Options{AFILimit: 20})
	sq := servicequotas.New(servicequotas.Options{Region: "us-west-2", BaseEndpoint: aws.String(e.srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""), HTTPClient: e.srv.Client()})
	in := &servicequotas.GetServiceQuotaInput{ServiceCode: aws.String("ec2"), QuotaCode: aws.String(ec2sim.QuotaCodeAFI)}
	out, err := sq.GetServiceQuota(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if v := aws.ToFloat64(out.Quota.Value); v != 20 || aws.ToString(out.Quota.QuotaName) != "Amazon FPGA images (AFIs)" {
		t.Errorf("quota = %v %q", v, aws.ToString(out.Quota.QuotaName))
	}
	e.sim.SetAFILimit(0)
	_, err = sq.GetServiceQuota(ctx, in, func(o *servicequotas.Options) { o.RetryMaxAttempts = 1 })
	var nsr *sqtypes.NoSuchResourceException
	if !errors.As(err, &nsr) {
		t.Errorf("without a limit: %v, want NoSuchResourceException", err)
	}
	if n := e.sim.Stats().Count("GetServiceQuota", "us-west-2", ""); n != 2 {
		t.Errorf("stats count %d GetServiceQuota calls, want 2", n)
	}
}
