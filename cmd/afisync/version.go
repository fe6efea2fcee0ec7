package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is the afisync release; set at build time with
// -ldflags "-X main.version=v1.2.3".
var version = "dev"

// sdkModules are the dependencies whose versions `afisync version` reports.
var sdkModules = []string{
	"github.com/aws/aws-sdk-go-v2",
	"github.com/aws/aws-sdk-go-v2/service/ec2",
}

func newVersionCmd(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the afisync, Go and AWS SDK versions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(c.stdout, "afisync %s\n", version)
			fmt.Fprintf(c.stdout, "go %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
			deps := map[string]string{}
			if bi, ok := debug.ReadBuildInfo(); ok {
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
