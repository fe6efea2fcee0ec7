package awsid_test

import (
	"context"
	"maps"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/ec2sim"
	"github.com/afisync/afisync/internal/awsid"
)

// ec2sim imports nothing of afisync (TestStdlibOnly), so it keeps its own
// copy of the identifier rules. These tests feed IDs, regions and tags
// through the simulator and prove that it accepts exactly what awsid
// accepts.

var t0 = time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)

func newSim() *ec2sim.Sim {
	return ec2sim.New(ec2sim.Options{Clock: ec2sim.NewManualClock(t0)})
}

// candidates are the IDs every check runs through: well-formed and
// malformed AFI, AGFI and account IDs.
var candidates = []string{
	"afi-0123456789abcdef0", "afi-00000000000000000", "afi-fffffffffffffffff",
	"afi-0123abcd", "afi-0123456789ABCDEF0", "afi-0123456789abcdef", "afi-0123456789abcdef01",
	"afi-0123456789abcdefg", "afi-", " afi-0123456789abcdef0", "afi-0123456789abcdef0\n",
	"agfi-0123456789abcdef0", "agfi-0123abcd", "agfi-0123456789ABCDEF0", "agfi-0123456789abcdef", "agfi-",
	"111122223333", "012345678901", "11112222333", "1111222233334", "11112222333x", "1111-2222-3333", "111122223333\n",
	"ami-0123456789abcdef0", "12345678",
}

func TestSimulatorAcceptsTheSameIDs(t *testing.T) {
	for _, id := range candidates {
		if got, want := ec2sim.ValidAFIID(id), awsid.ValidAFIID(id); got != want {
			t.Errorf("ec2sim.ValidAFIID(%q) = %v, awsid says %v", id, got, want)
		}
		for _, tc := range []struct {
			what  string
			image ec2sim.Image
			valid bool
		}{
			{"AFI ID", ec2sim.Image{Region: "us-east-1", ID: id}, awsid.ValidAFIID(id)},
			{"AGFI", ec2sim.Image{Region: "us-east-1", AGFI: id}, awsid.ValidAGFIID(id)},
			{"account", ec2sim.Image{Region: "us-east-1", Account: id}, awsid.ValidAccountID(id)},
			{"load permission", ec2sim.Image{Region: "us-east-1", LoadPermissions: []string{id}}, awsid.ValidAccountID(id)},
		} {
			_, err := newSim().AddImage(tc.image)
			if accepted := err == nil; accepted != tc.valid {
				t.Errorf("ec2sim takes %q as %s: %v (%v); awsid says %v", id, tc.what, accepted, err, tc.valid)
			}
		}
	}
	// The IDs the simulator makes up are valid too.
	im, err := newSim().AddImage(ec2sim.Image{Region: "us-east-1"})
	if err != nil || !awsid.ValidAFIID(im.ID) || !awsid.ValidAGFIID(im.AGFI) || !awsid.ValidAccountID(im.Account) {
		t.Errorf("simulator's own IDs: %+v (%v)", im, err)
	}
}

// notYetInDescribeRegions are the regions of the SDK's aws partition that
// ec2sim's DescribeRegions leaves out: announced in the SDK's partition
// table, not listed by EC2's DescribeRegions when ec2sim's list was taken.
var notYetInDescribeRegions = []string{"ap-southeast-6", "me-west-1", "sa-west-1"}

// TestSimulatorRegions: ec2sim.Regions (what its DescribeRegions lists) is
// the aws partition of awsid.Partitions less notYetInDescribeRegions, and
// its FPGA regions are among them.
func TestSimulatorRegions(t *testing.T) {
	var aws []string
	for _, p := range awsid.Partitions {
		if p.ID == "aws" {
			aws = p.Regions
		}
	}
	want := slices.DeleteFunc(slices.Clone(aws), func(r string) bool { return slices.Contains(notYetInDescribeRegions, r) })
	slices.Sort(want)
	got := slices.Sorted(maps.Keys(ec2sim.Regions))
	if !slices.Equal(got, want) {
		t.Errorf("ec2sim.Regions:\n got %v\nwant %v (awsid's aws partition without %v)", got, want, notYetInDescribeRegions)
	}
	for _, r := range ec2sim.DefaultFPGARegions {
		if _, ok := ec2sim.Regions[r]; !ok || !awsid.ValidRegion(r) || awsid.PartitionOf(r) != "aws" {
			t.Errorf("FPGA region %q is not a known aws region", r)
		}
	}
}

// TestSimulatorTagLimits writes tags at and past each of awsid's limits
// with CreateTags through afisync's AWS client: the simulator takes
// exactly what the limits allow.
func TestSimulatorTagLimits(t *testing.T) {
	sim := newSim()
	srv := httptest.NewServer(sim)
	defer srv.Close()
	client, err := afi.New(context.Background(), afi.Config{
		Region: "us-east-1", EndpointURL: srv.URL, MaxAttempts: 1, Limits: map[string]afi.Limit{},
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	many := func(n int) map[string]string {
		m := map[string]string{}
		for i := range n {
			m[strings.Repeat("k", i+1)] = "v"
		}
		return m
	}
	for _, tc := range []struct {
		name string
		tags map[string]string
		ok   bool
	}{
		{"longest key", map[string]string{strings.Repeat("k", awsid.MaxTagKeyLen): "v"}, true},
		{"key one too long", map[string]string{strings.Repeat("k", awsid.MaxTagKeyLen+1): "v"}, false},
		{"longest key in runes", map[string]string{strings.Repeat("é", awsid.MaxTagKeyLen): "v"}, true},
		{"longest value", map[string]string{"k": strings.Repeat("v", awsid.MaxTagValueLen)}, true},
		{"value one too long", map[string]string{"k": strings.Repeat("v", awsid.MaxTagValueLen+1)}, false},
		{"most tags", many(awsid.MaxTags), true},
		{"one tag too many", many(awsid.MaxTags + 1), false},
		{"reserved prefix", map[string]string{awsid.ReservedTagPrefix + "x": "v"}, false},
		{"reserved prefix, upper case", map[string]string{"AWS:x": "v"}, !awsid.ReservedTagKey("AWS:x")},
	} {
		im, err := sim.AddImage(ec2sim.Image{Region: "us-east-1"})
		if err != nil {
			t.Fatal(err)
		}
		err = client.CreateTags(context.Background(), "us-east-1", []string{im.ID}, tc.tags)
		if err != nil && afi.ErrorCode(err) == "" {
			t.Fatalf("%s: not an answer of EC2: %v", tc.name, err)
		}
		if accepted := err == nil; accepted != tc.ok {
			t.Errorf("%s: the simulator accepted: %v (%v); awsid's limits say %v", tc.name, accepted, err, tc.ok)
		}
	}
}

// TestSimulatorAssumesTheSameRoles: the simulator lets a role be assumed
// exactly when awsid takes its ARN for a role ARN (it refuses the others
// with AccessDenied, as AWS does).
func TestSimulatorAssumesTheSameRoles(t *testing.T) {
	srv := httptest.NewServer(newSim())
	defer srv.Close()
	client := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), HTTPClient: srv.Client(),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
	for _, arn := range []string{
		"arn:aws:iam::111122223333:role/afisync", "arn:aws-us-gov:iam::111122223333:role/a/b/afisync", "arn:aws-cn:iam::111122223333:role/a+=,.@_-b",
		"arn:aws:iam::111122223333:user/afisync", "arn:aws:iam:us-east-1:111122223333:role/x", "arn:aws:iam::11112222333:role/afisync",
		"arn:aws:iam::111122223333:role/", "arn:aws:iam::111122223333:role/ci/", "arn:aws:iam::111122223333:role/bad name",
		"arn:aws:iam::111122223333:role/" + strings.Repeat("x", 65), "arn:aws:iam::111122223333:role/" + strings.Repeat("x", 64),
		"arn:aws:iam::111122223333:role/a b/x", "arn:azure:iam::111122223333:role/x", "arn:aws:sts::111122223333:role/x",
		"arn:aws:iam::111122223333:role//x", "arn:aws:iam::111122223333:role/a//x",
	} {
		_, err := client.AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String(arn), RoleSessionName: aws.String("s1")})
		_, why := awsid.ParseRoleARN(arn)
		if assumed := err == nil; assumed != (why == "") {
			t.Errorf("%s: the simulator assumes it: %v (%v); awsid: %q", arn, assumed, err, why)
		}
	}
}
