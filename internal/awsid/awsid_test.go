package awsid

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Test IDs that every rule check (here and against ec2sim) runs through.
var (
	afiIDs = map[string]bool{
		"afi-0123456789abcdef0": true, "afi-00000000000000000": true, "afi-fffffffffffffffff": true,
		"afi-0123abcd":          false, // 8 digits: not an AFI ID AWS issues
		"afi-0123456789ABCDEF0": false, "afi-0123456789abcdef": false, "afi-0123456789abcdef01": false,
		"afi-0123abc": false, "agfi-0123456789abcdef0": false, "afi-": false, "": false,
		"afi-0123456789abcdefg": false, " afi-0123456789abcdef0": false, "afi-0123456789abcdef0\n": false,
	}
	agfiIDs = map[string]bool{
		"agfi-0123456789abcdef0": true, "agfi-0123abcd": false, "agfi-0123456789ABCDEF0": false,
		"afi-0123456789abcdef0": false, "agfi-0123456789abcdef": false, "agfi-": false, "": false,
	}
	accountIDs = map[string]bool{
		"111122223333": true, "012345678901": true, "11112222333": false, "1111222233334": false,
		"11112222333x": false, "1111-2222-3333": false, "": false, "111122223333\n": false,
	}
)

func TestIDs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		valid func(string) bool
		ids   map[string]bool
	}{
		{"ValidAFIID", ValidAFIID, afiIDs},
		{"ValidAGFIID", ValidAGFIID, agfiIDs},
		{"ValidAccountID", ValidAccountID, accountIDs},
	} {
		for id, want := range tc.ids {
			if got := tc.valid(id); got != want {
				t.Errorf("%s(%q) = %v, want %v", tc.name, id, got, want)
			}
		}
	}
	if n := len("afi-0123456789abcdef0") - len(AFIPrefix); n != IDDigits {
		t.Errorf("IDDigits = %d, the example has %d", IDDigits, n)
	}
}

func TestRegions(t *testing.T) {
	for r, want := range map[string]bool{
		"us-east-1": true, "us-gov-west-1": true, "cn-northwest-1": true, "mx-central-1": true,
		"il-central-1": true, "eu-west-9": true, "ap-southeast-12": true,
		"eu-wset-1": false, "us-east1": false, "US-EAST-1": false, "us-east-1a": false,
		"xx-east-1": false, "us-east-0": false, "": false,
	} {
		if got := ValidRegion(r); got != want {
			t.Errorf("ValidRegion(%q) = %v, want %v", r, got, want)
		}
	}
	seen := map[string]bool{}
	for _, p := range Partitions {
		for _, r := range p.Regions {
			if !ValidRegion(r) {
				t.Errorf("known region %q fails ValidRegion", r)
			}
			if got := PartitionOf(r); got != p.ID {
				t.Errorf("PartitionOf(%q) = %q, but it is listed under %q", r, got, p.ID)
			}
			if seen[r] {
				t.Errorf("region %q listed twice", r)
			}
			seen[r] = true
		}
	}
	if got := KnownRegions(); len(got) != len(seen) {
		t.Errorf("KnownRegions has %d regions, Partitions %d", len(got), len(seen))
	}
}

func TestReservedTagKey(t *testing.T) {
	for k, want := range map[string]bool{"aws:cloudformation:stack": true, "AWS:x": true, "aws": false, "team": false, "x-aws:": false} {
		if got := ReservedTagKey(k); got != want {
			t.Errorf("ReservedTagKey(%q) = %v, want %v", k, got, want)
		}
	}
}

// TestPartitionsAreTheSDKs checks Partitions against the partition table of
// the aws-sdk-go-v2 module in go.mod, so that an SDK upgrade that adds a
// region shows up here.
func TestPartitionsAreTheSDKs(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-sdk-go-v2").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "internal", "endpoints", "awsrulesfn", "partitions.json"))
	if err != nil {
		t.Skipf("the SDK's partition table: %v", err)
	}
	var table struct {
		Partitions []struct {
			ID      string                     `json:"id"`
			Regions map[string]json.RawMessage `json:"regions"`
		} `json:"partitions"`
	}
	if err := json.Unmarshal(data, &table); err != nil {
		t.Fatal(err)
	}
	sdk := map[string][]string{}
	for _, p := range table.Partitions {
		for r := range p.Regions {
			if !strings.HasSuffix(r, "-global") {
				sdk[p.ID] = append(sdk[p.ID], r)
			}
		}
		slices.Sort(sdk[p.ID])
	}
	for _, p := range Partitions {
		ours := slices.Sorted(slices.Values(p.Regions))
		if !slices.Equal(ours, sdk[p.ID]) {
			t.Errorf("partition %s:\n ours %v\n  SDK %v", p.ID, ours, sdk[p.ID])
		}
	}
}

// TestStdlibOnly keeps awsid on the standard library: it is a leaf that
// any package may import.
func TestStdlibOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if p != "github.com/afisync/afisync/internal/awsid" {
			t.Errorf("awsid depends on non-standard package %s", p)
		}
	}
}

func TestParseRoleARN(t *testing.T) {
	tests := []struct {
		arn  string
		want RoleARN // zero: not a role ARN
		why  string  // part of the reason
	}{
		{"arn:aws:iam::111122223333:role/afisync", RoleARN{"aws", "111122223333", "/", "afisync"}, ""},
		{"arn:aws-us-gov:iam::111122223333:role/ci/deploy/afisync", RoleARN{"aws-us-gov", "111122223333", "/ci/deploy/", "afisync"}, ""},
		{"arn:aws-cn:iam::012345678901:role/a+=,.@_-b", RoleARN{"aws-cn", "012345678901", "/", "a+=,.@_-b"}, ""},
		{"afisync", RoleARN{}, "is not an ARN"},
		{"arn:aws:iam::111122223333", RoleARN{}, "is not an ARN"},
		{"arn:aws:iam::111122223333:user/bob", RoleARN{}, "names no role"},
		{"arn:aws:sts::111122223333:assumed-role/x/y", RoleARN{}, "is not an IAM ARN"},
		{"arn:aws:iam:us-east-1:111122223333:role/x", RoleARN{}, "has a region"},
		{"arn:aws:iam::11112222333:role/x", RoleARN{}, "12-digit"},
		{"arn:aws:iam::111122223333:role/", RoleARN{}, "no role name"},
		{"arn:aws:iam::111122223333:role/ci/", RoleARN{}, "no role name"},
		{"arn:aws:iam::111122223333:role/bad name", RoleARN{}, "invalid role name"},
		{"arn:aws:iam::111122223333:role/" + strings.Repeat("x", 65), RoleARN{}, "invalid role name"},
		{"arn:aws:iam::111122223333:role/a b/x", RoleARN{}, "invalid role path"},
		{"arn:azure:iam::111122223333:role/x", RoleARN{}, "unknown partition"},
		{"arn:aws:iam::111122223333:role//x", RoleARN{}, "invalid role path"},
	}
	for _, tt := range tests {
		got, why := ParseRoleARN(tt.arn)
		if got != tt.want || (tt.why == "") != (why == "") || !strings.Contains(why, tt.why) {
			t.Errorf("ParseRoleARN(%q) = %+v, %q; want %+v and a reason with %q", tt.arn, got, why, tt.want, tt.why)
		}
	}
}
