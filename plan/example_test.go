package plan_test

import (
	"fmt"

	"github.com/afisync/afisync/plan"
)

func ExampleParse() {
	p, err := plan.Parse("fleet.yaml", []byte(`
version: 1
name: fpga-fleet
defaults:
  source_region: us-east-1
  regions: [us-west-2, eu-west-1]
  tags: {team: fpga}
afis:
  - id: afi-0123456789abcdef0
  - id: afi-0fedcba9876543210
    regions: [eu-west-2]   # replaces defaults.regions
    tags: {role: nic}      # merged over defaults.tags
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range p.AFIs {
		fmt.Println(e.ID, e.SourceRegion, e.Regions, e.Tags, e.CopySourceTags)
	}
	// Output:
	// afi-0123456789abcdef0 us-east-1 [us-west-2 eu-west-1] map[team:fpga] true
	// afi-0fedcba9876543210 us-east-1 [eu-west-2] map[role:nic team:fpga] true
}

func ExampleParse_errors() {
	_, err := plan.Parse("fleet.yaml", []byte(`version: 1
name: fpga-fleet
defaults:
  source_region: us-east-1
  regoins: [us-west-2]
afis:
  - id: afi-0123456789abcdef0
    regions: [eu-wset-1]
`))
	fmt.Println(err)
	// Output:
	// fleet.yaml:5:3: unknown key "regoins" in defaults; did you mean "regions"?
	// fleet.yaml:8:15: unknown region "eu-wset-1"; did you mean "eu-west-1"?
}

func ExamplePlan_Targets() {
	p, err := plan.Parse("fleet.yaml", []byte(`
version: 1
name: fpga-fleet
defaults: {source_region: us-east-1, regions: [us-west-2, eu-west-1]}
afis:
  - id: afi-0123456789abcdef0
  - select: {name: "release-*"}
    regions: [eu-central-1]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range p.Targets() {
		src := t.SourceAFI
		if t.Selector != nil {
			src = "select " + t.Selector.Name
		}
		fmt.Printf("entry %d: %s in %s -> %s\n", t.Entry, src, t.SourceRegion, t.Region)
	}
	// Output:
	// entry 0: afi-0123456789abcdef0 in us-east-1 -> us-west-2
	// entry 0: afi-0123456789abcdef0 in us-east-1 -> eu-west-1
	// entry 1: select release-* in us-east-1 -> eu-central-1
}
