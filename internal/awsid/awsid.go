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
	"slices"
	"strconv"
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

// A RoleARN is the parts of an IAM role ARN,
// arn:PARTITION:iam::ACCOUNT:role/PATH/NAME.
type RoleARN struct {
	Partition string // aws, aws-us-gov or aws-cn
	Account   string // the 12-digit account that holds the role
	Path      string // "/" or "/a/b/": the role's path
	Name      string // the role's name
}

// IAM's limits on a role's name and path.
const (
	MaxRoleNameLen = 64
	MaxRolePathLen = 512
)

var (
	roleNameRE = regexp.MustCompile(`^[\w+=,.@-]+$`)
	rolePathRE = regexp.MustCompile(`^/([\x21-\x7e]+/)?$`)
)

// ParseRoleARN splits an IAM role ARN into its parts. When it is not one,
// it returns what is wrong, in words that fit "role_arn …: WHY".
func ParseRoleARN(arn string) (RoleARN, string) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return RoleARN{}, "is not an ARN; a role ARN is written arn:aws:iam::111122223333:role/NAME"
	}
	r := RoleARN{Partition: parts[1], Account: parts[4]}
	switch {
	case !slices.Contains([]string{"aws", "aws-us-gov", "aws-cn"}, r.Partition):
		return RoleARN{}, "has an unknown partition " + strconv.Quote(r.Partition) + "; use aws, aws-us-gov or aws-cn"
	case parts[2] != "iam":
		return RoleARN{}, "is not an IAM ARN (service " + strconv.Quote(parts[2]) + "); a role ARN is arn:" + r.Partition + ":iam::ACCOUNT:role/NAME"
	case parts[3] != "":
		return RoleARN{}, "has a region; IAM ARNs have none: arn:" + r.Partition + ":iam::ACCOUNT:role/NAME"
	case !ValidAccountID(r.Account):
		return RoleARN{}, "has no 12-digit account ID between iam:: and :role/"
	}
	res, ok := strings.CutPrefix(parts[5], "role/")
	if !ok {
		return RoleARN{}, "names no role (" + strconv.Quote(parts[5]) + "); the resource of a role ARN is role/NAME or role/PATH/NAME"
	}
	i := strings.LastIndexByte(res, '/')
	r.Path, r.Name = "/"+res[:i+1], res[i+1:]
	if i < 0 {
		r.Path = "/"
	}
	switch {
	case r.Name == "":
		return RoleARN{}, "has no role name after role/"
	case len(r.Name) > MaxRoleNameLen || !roleNameRE.MatchString(r.Name):
		return RoleARN{}, "has an invalid role name " + strconv.Quote(r.Name) + "; IAM role names are 1-64 letters, digits and +=,.@_-"
	case len(r.Path) > MaxRolePathLen || !rolePathRE.MatchString(r.Path):
		return RoleARN{}, "has an invalid role path " + strconv.Quote(r.Path) + "; a path is / or /printable/characters/"
	}
	return r, ""
}
