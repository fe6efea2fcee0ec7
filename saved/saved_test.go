package saved_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/afisync/afisync/plan"
	"github.com/afisync/afisync/reconcile"
	"github.com/afisync/afisync/saved"
)

func TestRoundTrip(t *testing.T) {
	p, err := plan.Parse("p.yaml", []byte("version: 1\nname: rel\ndefaults:\n  source_region: us-east-1\n  regions: [us-west-2]\nafis:\n  - id: afi-0123456789abcdef0\n"))
	if err != nil {
		t.Fatal(err)
	}
	ds := []reconcile.Decision{{SourceRegion: "us-east-1", SourceAFI: "afi-0123456789abcdef0", Region: "us-west-2", Action: reconcile.ActionCopy, Attempt: 1}}
	f, err := saved.New(p, "111122223333", saved.Settings{Retries: 3, Prune: true}, ds, time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC), "v0.2.0")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "rel.json")
	if err := f.Write(path); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v; want 0600", st.Mode(), err)
	}
	g, err := saved.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if g.Account != "111122223333" || !g.Settings.Prune || len(g.Decisions) != 1 || g.Decisions[0].Action != reconcile.ActionCopy {
		t.Errorf("read back %+v", g)
	}
	q, err := g.Plan()
	if err != nil || q.Name != "rel" || len(q.Targets()) != 1 {
		t.Errorf("saved plan: %v, %v", q, err)
	}
}

func TestReadRefuses(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct{ body, want string }{
		"yaml":    {"version: 1\nname: x\n", "is not a saved plan"},
		"format":  {`{"format": "something-else", "version": 1}`, "is not a saved plan (format"},
		"newer":   {`{"format": "afisync-saved-plan", "version": 2}`, "upgrade afisync"},
		"version": {`{"format": "afisync-saved-plan"}`, "has no version"},
	} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(tc.body), 0o600)
		if _, err := saved.Read(path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Read = %v, want an error with %q", name, err, tc.want)
		}
	}
}
