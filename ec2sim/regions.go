package ec2sim

import "sort"

// Regions are the commercial AWS Regions DescribeRegions lists, with their
// opt-in status. Every one is treated as enabled. internal/awsid's tests
// check them against afisync's partition table (the AWS SDK's).
var Regions = map[string]string{
	"us-east-1": "opt-in-not-required", "us-east-2": "opt-in-not-required",
	"us-west-1": "opt-in-not-required", "us-west-2": "opt-in-not-required",
	"ca-central-1": "opt-in-not-required", "sa-east-1": "opt-in-not-required",
	"eu-west-1": "opt-in-not-required", "eu-west-2": "opt-in-not-required",
	"eu-west-3": "opt-in-not-required", "eu-central-1": "opt-in-not-required",
	"eu-north-1": "opt-in-not-required", "ap-south-1": "opt-in-not-required",
	"ap-northeast-1": "opt-in-not-required", "ap-northeast-2": "opt-in-not-required",
	"ap-northeast-3": "opt-in-not-required", "ap-southeast-1": "opt-in-not-required",
	"ap-southeast-2": "opt-in-not-required",
	"af-south-1":     "opted-in", "ap-east-1": "opted-in", "ap-east-2": "opted-in",
	"ap-south-2": "opted-in", "ap-southeast-3": "opted-in", "ap-southeast-4": "opted-in",
	"ap-southeast-5": "opted-in", "ap-southeast-7": "opted-in", "ca-west-1": "opted-in",
	"eu-central-2": "opted-in", "eu-south-1": "opted-in", "eu-south-2": "opted-in",
	"il-central-1": "opted-in", "me-central-1": "opted-in", "me-south-1": "opted-in",
	"mx-central-1": "opted-in",
}

func knownRegion(r string) bool { _, ok := Regions[r]; return ok }

var regionFilterNames = map[string]bool{"endpoint": true, "opt-in-status": true, "region-name": true}

func (s *Sim) describeRegions(c *call) (any, *apiError) {
	fs, err := parseFilters(c, regionFilterNames)
	if err != nil {
		return nil, err
	}
	names := c.list("RegionName")
	for _, n := range names {
		if !knownRegion(n) {
			return nil, errf(400, "InvalidParameterValue", "Invalid region: %s", n)
		}
	}
	if len(names) == 0 {
		for n := range Regions {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	res := describeRegionsResult{}
	res.RegionInfo.Items = []xmlRegion{}
	for _, n := range names {
		r := xmlRegion{RegionName: n, Endpoint: "ec2." + n + ".amazonaws.com", OptInStatus: Regions[n]}
		ok := fs.match(func(name string) []string {
			switch name {
			case "endpoint":
				return []string{r.Endpoint}
			case "opt-in-status":
				return []string{r.OptInStatus}
			}
			return []string{r.RegionName}
		})
		if ok {
			res.RegionInfo.Items = append(res.RegionInfo.Items, r)
		}
	}
	return res, nil
}
