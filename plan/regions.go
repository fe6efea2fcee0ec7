package plan

import (
	"errors"
	"regexp"
	"strings"
)

// KnownRegions are the AWS regions this build knows by name (from the
// aws-sdk-go-v2 partition table). The list only feeds "did you mean"
// suggestions: a region that is not in it but is well formed (see
// ValidRegion) is accepted, because AWS opens new regions.
var KnownRegions = []string{
	// aws
	"af-south-1",
	"ap-east-1", "ap-east-2",
	"ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2",
	"ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
	"ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
	"ca-central-1", "ca-west-1",
	"eu-central-1", "eu-central-2",
	"eu-north-1",
	"eu-south-1", "eu-south-2",
	"eu-west-1", "eu-west-2", "eu-west-3",
	"il-central-1",
	"me-central-1", "me-south-1", "me-west-1",
	"mx-central-1",
	"sa-east-1", "sa-west-1",
	"us-east-1", "us-east-2",
	"us-west-1", "us-west-2",
	// aws-us-gov
	"us-gov-east-1", "us-gov-west-1",
	// aws-cn
	"cn-north-1", "cn-northwest-1",
}

// regionRE is the shape of a region name in the partitions afisync supports:
// a geography prefix, a compass direction, and a number.
var regionRE = regexp.MustCompile(`^(us-gov|us|eu|ap|ca|sa|me|af|il|mx|cn)-(north|south|east|west|central|northeast|northwest|southeast|southwest)-[1-9][0-9]?$`)

// ValidRegion reports whether name has the shape of an AWS region in the
// aws, aws-us-gov or aws-cn partition (for example "eu-west-1"). It does not
// check that the region exists.
func ValidRegion(name string) bool { return regionRE.MatchString(name) }

// Partition returns the AWS partition a well-formed region belongs to: "aws",
// "aws-us-gov" or "aws-cn". An AFI cannot be copied across partitions.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	default:
		return "aws"
	}
}

// suggestRegion returns the known region closest to a malformed name, or "".
func suggestRegion(name string) string {
	s := strings.ToLower(strings.TrimSpace(name))
	s = strings.ReplaceAll(s, "_", "-")
	s = strings.ReplaceAll(s, " ", "-")
	return closest(s, KnownRegions, 2)
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
