package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is the afisync release, set at build time with
// -ldflags "-X main.version=v1.2.3" (the release builds do). When it is
// empty, afisync reports what the Go toolchain recorded in the binary
// instead: the module version (`go install …@v1.2.3` records v1.2.3; `go
// build` in a git checkout records a pseudo-version) and the VCS revision.
var version = ""

// sdkModules are the dependencies whose versions `afisync version` reports.
var sdkModules = []string{
	"github.com/aws/aws-sdk-go-v2",
	"github.com/aws/aws-sdk-go-v2/service/ec2",
}

// versionString is what `afisync --version` prints after "afisync ".
func versionString() string {
	bi, _ := debug.ReadBuildInfo()
	return describeVersion(version, bi)
}

// describeVersion renders the version of a binary whose -ldflags version is
// ldflagsVersion (empty: none) and whose build information is bi (nil: none
// recorded). Examples:
//
//	v1.2.3                                                     go install …@v1.2.3
//	v1.2.3 (commit 3221b7363e8b, 2026-11-25T20:12:56Z)          a release build
//	v0.0.0-20261125201256-3221b7363e8b+dirty (commit 3221b7363e8b, modified, 2026-11-25T20:12:56Z)
//	(devel)                                                    no version information at all
func describeVersion(ldflagsVersion string, bi *debug.BuildInfo) string {
	v := ldflagsVersion
	if v == "" && bi != nil && bi.Main.Version != "" {
		v = bi.Main.Version // "(devel)" when the toolchain knew nothing
	}
	if v == "" {
		v = "(devel)"
	}
	if bi == nil {
		return v
	}
	var rev, at string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return v
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	v += " (commit " + rev
	if modified {
		v += ", modified"
	}
	if at != "" {
		v += ", " + at
	}
	return v + ")"
}

func newVersionCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the afisync, Go and AWS SDK versions",
		Long: `Print the afisync version (with its VCS revision when the build recorded one),
the Go version and platform, and the versions of the AWS SDK modules linked in.
afisync --version prints the first line only.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bi, _ := debug.ReadBuildInfo()
			fmt.Fprintf(c.stdout, "afisync %s\n", describeVersion(version, bi))
			fmt.Fprintf(c.stdout, "go %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
			deps := map[string]string{}
			if bi != nil {
				for _, d := range bi.Deps {
					deps[d.Path] = d.Version
				}
			}
			for _, m := range sdkModules {
				v := deps[m]
				if v == "" {
					v = "(not linked)"
				}
				fmt.Fprintf(c.stdout, "%s %s\n", m, v)
			}
			return nil
		},
	}
}
