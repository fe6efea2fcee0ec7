// Package awsid holds AWS's rules for the identifiers afisync handles — AFI
// and AGFI IDs, account IDs, regions and their partitions — and EC2's tag
// limits, once, for the plan checker and the CLI. It uses the standard
// library only.
//
// ec2sim may import nothing of afisync, so it keeps its own copy of these
// rules; this package's tests prove that the simulator accepts exactly what
// these rules accept, that its region list is a documented subset of
// Partitions, and that Partitions is the AWS SDK's own table.
package awsid

import (
	"regexp"
	"strings"
)

// AFI and AGFI IDs are the prefix and 17 lower-case hexadecimal digits, like
// afi-0123456789abcdef0 (AWS: "in the form afi-xxxxxxxxxxxxxxxxx").
const (
	AFIPrefix  = "afi-"
	AGFIPrefix = "agfi-"
	IDDigits   = 17
)

// Tag limits of EC2 (the constraints of its Tag type).
const (
	MaxTags           = 50     // tags on one resource
	MaxTagKeyLen      = 127    // Unicode characters in a tag key
	MaxTagValueLen    = 256    // Unicode characters in a tag value
	ReservedTagPrefix = "aws:" // tag keys AWS keeps for itself (case-insensitive)
)

var (
	afiRE     = regexp.MustCompile(`^afi-[0-9a-f]{17}$`)
	agfiRE    = regexp.MustCompile(`^agfi-[0-9a-f]{17}$`)
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
)

// ValidAFIID reports whether id is an AFI ID: "afi-" and 17 lower-case
// hexadecimal digits.
func ValidAFIID(id string) bool { return afiRE.MatchString(id) }

// ValidAGFIID reports whether id is a global AFI ID (AGFI): "agfi-" and 17
// lower-case hexadecimal digits.
func ValidAGFIID(id string) bool { return agfiRE.MatchString(id) }

// ValidAccountID reports whether id is a 12-digit AWS account ID.
func ValidAccountID(id string) bool { return accountRE.MatchString(id) }

// ReservedTagKey reports whether key starts with the prefix AWS reserves.
func ReservedTagKey(key string) bool {
	return strings.HasPrefix(strings.ToLower(key), ReservedTagPrefix)
}

// A Partition is a group of regions: an AFI is never copied from one
// partition to another.
type Partition struct {
	ID      string
	Regions []string
}

// Partitions are the partitions afisync supports with the regions this build
// knows by name: the aws, aws-us-gov and aws-cn partitions of the
// aws-sdk-go-v2 partition table (internal/endpoints/awsrulesfn), without
// their "-global" pseudo-regions. TestPartitionsAreTheSDKs checks them
// against the SDK in go.mod.
var Partitions = []Partition{
	{ID: "aws", Regions: []string{
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
	}},
	{ID: "aws-us-gov", Regions: []string{"us-gov-east-1", "us-gov-west-1"}},
	{ID: "aws-cn", Regions: []string{"cn-north-1", "cn-northwest-1"}},
}

// KnownRegions returns the regions of every partition, in the order of
// Partitions.
func KnownRegions() []string {
	var out []string
	for _, p := range Partitions {
		out = append(out, p.Regions...)
	}
	return out
}

// regionRE is the shape of a region name in the supported partitions: a
// geography prefix, a compass direction, and a number.
var regionRE = regexp.MustCompile(`^(us-gov|us|eu|ap|ca|sa|me|af|il|mx|cn)-(north|south|east|west|central|northeast|northwest|southeast|southwest)-[1-9][0-9]?$`)

// ValidRegion reports whether name has the shape of a region in the aws,
// aws-us-gov or aws-cn partition (for example "eu-west-1"). It does not
// check that the region exists: AWS keeps opening regions.
func ValidRegion(name string) bool { return regionRE.MatchString(name) }

// PartitionOf returns the partition a well-formed region belongs to: "aws",
// "aws-us-gov" or "aws-cn".
func PartitionOf(region string) string {
	switch {
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	default:
		return "aws"
	}
}
