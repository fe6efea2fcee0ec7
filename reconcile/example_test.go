package reconcile_test

import (
	"fmt"

	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/reconcile"
)

func ExampleDiff() {
	p, err := plan.Parse("fleet.yaml", []byte(`
version: 1
name: fpga-fleet
defaults:
  source_region: us-east-1
  regions: [us-west-2, eu-west-1, eu-west-2, ap-southeast-2]
  tags: {team: fpga}
afis:
  - id: afi-0123456789abcdef0
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	const src = "afi-0123456789abcdef0"
	// Copies afisync made carry its management tags.
	ours := func(id, region, state, msg string, tags map[string]string) reconcile.Image {
		im := reconcile.Image{ID: id, Region: region, State: state, Message: msg, Name: "nic",
			Tags: map[string]string{plan.TagSource: plan.SourceKey("us-east-1", src), plan.ClaimKey(p.Name): p.Name}}
		for k, v := range tags {
			im.Tags[k] = v
		}
		return im
	}
	inv := &reconcile.Inventory{
		Account: "111122223333",
		Owned: map[string][]reconcile.Image{
			"us-east-1":      {{ID: src, AGFI: "agfi-0123456789abcdef0", Region: "us-east-1", State: reconcile.StateAvailable, Name: "nic"}},
			"us-west-2":      {ours("afi-0aaaaaaaaaaaaaaa1", "us-west-2", reconcile.StatePending, "", nil)},
			"eu-west-1":      {ours("afi-0aaaaaaaaaaaaaaa2", "eu-west-1", reconcile.StateAvailable, "", map[string]string{"team": "asic"})},
			"eu-west-2":      {ours("afi-0aaaaaaaaaaaaaaa3", "eu-west-2", reconcile.StateFailed, "INTERNAL_ERROR: try again", nil)},
			"ap-southeast-2": nil,
		},
	}
	d := reconcile.Diff(p.Targets(), inv, reconcile.DiffOptions{PlanName: p.Name, Retries: 3})
	for _, c := range d.Changes {
		fmt.Printf("%-14s %-6s attempt %d: %s\n", c.Target.Region, c.Action, c.Attempt, c.Reason)
	}
	// Output:
	// us-west-2      wait   attempt 1: copy afi-0aaaaaaaaaaaaaaa1 is pending
	// eu-west-1      update attempt 1: ~ tag team=asic→fpga
	// eu-west-2      retry  attempt 2: copy afi-0aaaaaaaaaaaaaaa3 failed: INTERNAL_ERROR: try again
	// ap-southeast-2 copy   attempt 1: no copy in ap-southeast-2
}

func ExampleConverge() {
	target := plan.Target{
		SourceRegion:  "us-east-1",
		SourceAFI:     "afi-0123456789abcdef0",
		Region:        "us-west-2",
		Tags:          map[string]string{"team": "fpga", "env": "prod"},
		ExclusiveTags: true, // remove tags the plan does not list
		ShareWith:     []string{"444455556666"},
	}
	source := &reconcile.Image{ID: "afi-0123456789abcdef0", Region: "us-east-1", Name: "nic"}
	copied := &reconcile.Image{ID: "afi-0aaaaaaaaaaaaaaa1", Region: "us-west-2", Name: "nic-old",
		Tags: map[string]string{
			plan.TagSource:              plan.SourceKey("us-east-1", "afi-0123456789abcdef0"),
			plan.ClaimKey("fpga-fleet"): "fpga-fleet",
			"env":                       "dev",
			"owner":                     "alice",
		}}
	perms := &reconcile.LoadPermissions{Users: []string{"111122223333"}}
	// The last update records what sharing afisync applied (written only
	// once the sharing succeeded), so that later runs need not read it.
	for _, u := range reconcile.Converge(target, source, copied, perms, "fpga-fleet") {
		fmt.Println(u)
	}
	// Output:
	// ~ tag env=dev→prod
	// + tag team=fpga
	// - tag owner
	// ~ name "nic-old"→"nic"
	// + share 444455556666
	// + tag afisync:sharing=e6965868cfe8
}

func ExampleClientToken() {
	// The same attempt at the same copy always sends the same token, so EC2
	// returns the copy it already made; the next attempt gets a new one.
	// Tokens are part of the state in AWS: this output must never change.
	fmt.Println(reconcile.ClientToken("us-east-1", "afi-0123456789abcdef0", "us-west-2", 1))
	fmt.Println(reconcile.ClientToken("us-east-1", "afi-0123456789abcdef0", "us-west-2", 1))
	fmt.Println(reconcile.ClientToken("us-east-1", "afi-0123456789abcdef0", "us-west-2", 2))
	// Output:
	// afisync-efb06bb6b64f99b3dcfd887f59177583-1
	// afisync-efb06bb6b64f99b3dcfd887f59177583-1
	// afisync-efb06bb6b64f99b3dcfd887f59177583-2
}
