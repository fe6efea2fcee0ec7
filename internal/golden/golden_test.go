package golden

import (
	"os"
	"path/filepath"
	"testing"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Helper()               {}
func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true }
func (r *recorder) Fatal(...any)          { r.failed = true }

func TestCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.golden")
	if err := os.WriteFile(path, []byte("same\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		path   string
		got    string
		update bool
		fails  bool
	}{
		{"equal", path, "same\n", false, false},
		{"differs", path, "other\n", false, true},
		{"missing file", path + ".none", "same\n", false, true},
		{"update rewrites", path, "new\n", true, false},
		{"after update", path, "new\n", false, false},
	} {
		old := *update
		*update = tc.update
		r := &recorder{TB: t}
		Check(r, tc.path, []byte(tc.got))
		*update = old
		if r.failed != tc.fails {
			t.Errorf("%s: failed = %v, want %v", tc.name, r.failed, tc.fails)
		}
	}
}
