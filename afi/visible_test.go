package afi_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/ec2sim"
)

// Visible asks, through the SDK and with the caller's own credentials,
// which AFIs it can see: its own, those shared with it (load permission),
// public ones; not those of another account shared elsewhere, nor missing
// ones. One DescribeFpgaImages answers for the whole batch when every AFI
// is seen; each unseen one costs one more call (EC2 fails the whole call
// for it).
func TestVisible(t *testing.T) {
	sim, c := newClient(t, ec2sim.Options{}, afi.Config{})
	add := func(im ec2sim.Image) string {
		im.Region = "us-west-2"
		got, err := sim.AddImage(im)
		if err != nil {
			t.Fatal(err)
		}
		return got.ID
	}
	own := add(ec2sim.Image{})
	shared := add(ec2sim.Image{Account: "444455556666", LoadPermissions: []string{ec2sim.DefaultAccount}})
	public := add(ec2sim.Image{Account: "444455556666", Public: true})
	other := add(ec2sim.Image{Account: "444455556666", LoadPermissions: []string{"777788889999"}})
	missing := "afi-0123456789abcdef0"
	got, err := c.Visible(context.Background(), "us-west-2", []string{own, shared, public, other, missing})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{own: true, shared: true, public: true, other: false, missing: false}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Visible (-want +got):\n%s", d)
	}
	if n := sim.Stats().Count("DescribeFpgaImages", "us-west-2", ""); n != 3 {
		t.Errorf("%d DescribeFpgaImages calls, want 3 (the batch, then again without each unseen AFI)", n)
	}
}
