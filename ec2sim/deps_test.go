package ec2sim_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestStdlibOnly keeps ec2sim (without its tests) on the standard library,
// like ggcr's pkg/registry depcheck.
func TestStdlibOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", ".", "./internal/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if p == "github.com/afisync/afisync/ec2sim" || strings.HasPrefix(p, "github.com/afisync/afisync/ec2sim/internal/") {
			continue
		}
		t.Errorf("ec2sim depends on non-standard package %s", p)
	}
}
