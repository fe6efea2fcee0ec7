package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder: replaced by the ec2sim work (issue 3).
func newSimCmd(c *cli) *cobra.Command {
	return &cobra.Command{Use: "sim", RunE: func(*cobra.Command, []string) error {
		return withCode(exitInvalid, errors.New("sim: not built yet"))
	}}
}
