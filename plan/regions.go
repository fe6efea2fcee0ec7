package plan

import (
	"errors"
	"strings"

	"github.com/afisync/afisync/internal/awsid"
)

// knownRegions feed "did you mean" suggestions: a region that is not among
// them but is well formed (awsid.ValidRegion) is accepted, because AWS opens
// new regions.
var knownRegions = awsid.KnownRegions()

// Partition returns the AWS partition a well-formed region belongs to: "aws",
// "aws-us-gov" or "aws-cn" (awsid.PartitionOf). An AFI cannot be copied
// across partitions.
func Partition(region string) string { return awsid.PartitionOf(region) }

// suggestRegion returns the known region closest to a malformed name, or "".
func suggestRegion(name string) string {
	s := strings.ToLower(strings.TrimSpace(name))
	s = strings.ReplaceAll(s, "_", "-")
	s = strings.ReplaceAll(s, " ", "-")
	return closest(s, knownRegions, 2)
}

// RegionError explains why name is not an AWS region name ("unknown region
// "us-esat-1"; did you mean "us-east-1"?"), or returns nil when it is one.
// It is the rule plan files follow, for regions given elsewhere (--region).
func RegionError(name string) error {
	if p := checkRegion(name); p != nil {
		return errors.New(p.msg + "; " + p.hint)
	}
	return nil
}
