package plan_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/afisync/afisync/plan"
)

// FuzzParse checks the loader's promises on arbitrary input: it never
// panics; an error is always a non-empty *plan.Errors whose entries name the
// file and a position at or after 1:1; and a plan it accepts renders with
// EffectiveYAML to a plan that parses back to the same thing.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(plansDir, "*", "*.yaml"))
	seeds = append(seeds, "../plans/example.yaml")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("version: 1\nname: a\nafis: [{id: afi-0000000000123abcd, source_region: us-east-1, regions: [eu-west-1]}]\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("{version: 1, name: &n x, afis: [&e {select: {name: *n}, source_region: us-east-1, regions: [us-west-2]}, *e]}"))

	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := plan.Parse("fuzz.yaml", data)
		if err != nil {
			if p != nil {
				t.Fatal("Parse returned a plan with an error")
			}
			var errs *plan.Errors
			if !errors.As(err, &errs) || errs.Len() == 0 {
				t.Fatalf("error is not a non-empty *plan.Errors: %T %v", err, err)
			}
			for _, e := range errs.List {
				if e.File != "fuzz.yaml" || e.Pos.Line < 1 || e.Pos.Col < 1 || e.Msg == "" {
					t.Fatalf("bad error %#v", e)
				}
			}
			return
		}
		out, err := p.EffectiveYAML()
		if err != nil {
			t.Fatalf("EffectiveYAML: %v", err)
		}
		p2, err := plan.Parse("effective.yaml", out)
		if err != nil {
			t.Fatalf("effective plan does not parse: %v\n%s", err, out)
		}
		if diff := cmp.Diff(p, p2, ignorePositions); diff != "" {
			t.Fatalf("round trip changed the plan:\n%s", diff)
		}
		_ = p.Targets()
	})
}
