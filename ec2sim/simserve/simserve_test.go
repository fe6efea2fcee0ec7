package simserve_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/afisync/afisync/ec2sim"
	"github.com/afisync/afisync/ec2sim/simserve"
)

func TestSeedTimes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "seed.yaml")
	os.WriteFile(path, []byte("images:\n  - region: eu-west-1\n    ready_in: 5m\n    tags: {a: b}\n  - region: eu-west-1\n    state: failed\n    message: DCP_CORRUPT\n"), 0o644)
	clock := ec2sim.NewManualClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	sim := ec2sim.New(ec2sim.Options{Clock: clock})
	n, err := simserve.LoadSeed(sim, path)
	if err != nil || n != 2 {
		t.Fatalf("LoadSeed: %d %v", n, err)
	}
	states := func() string {
		var s []string
		for _, img := range sim.Images("", "eu-west-1") {
			s = append(s, img.State)
		}
		sort.Strings(s)
		return fmt.Sprint(s)
	}
	if got := states(); got != "[failed pending]" {
		t.Errorf("before ready_in: %s", got)
	}
	clock.Advance(5 * time.Minute)
	if got := states(); got != "[available failed]" {
		t.Errorf("after ready_in: %s", got)
	}
}

func TestAutosave(t *testing.T) {
	sim := ec2sim.New(ec2sim.Options{})
	path := filepath.Join(t.TempDir(), "world.json")
	tick, stop, done := make(chan time.Time), make(chan struct{}), make(chan struct{})
	var errs bytes.Buffer
	go func() { defer close(done); simserve.Autosave(sim, path, tick, stop, &errs) }()

	tick <- time.Time{} // nothing changed: nothing written
	tick <- time.Time{} // (a second tick makes sure the first was handled)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("saved an unchanged world (stat: %v)", err)
	}
	im, err := sim.AddImage(ec2sim.Image{Region: "us-east-1", Name: "kept"})
	if err != nil {
		t.Fatal(err)
	}
	tick <- time.Time{}
	tick <- time.Time{}
	close(stop)
	<-done
	restored := ec2sim.New(ec2sim.Options{})
	if ok, err := restored.LoadFile(path); !ok || err != nil {
		t.Fatalf("LoadFile: %v, %v", ok, err)
	}
	if got, ok := restored.Image(im.ID); !ok || got.Name != "kept" {
		t.Errorf("the saved world lacks %s: %+v", im.ID, got)
	}
	if errs.Len() != 0 {
		t.Errorf("Autosave reported: %s", errs.String())
	}
}
