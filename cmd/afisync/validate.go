package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder: replaced by the plan-package work (issue 2).
func newValidateCmd(c *cli) *cobra.Command {
	return &cobra.Command{Use: "validate", RunE: func(*cobra.Command, []string) error {
		return withCode(exitInvalid, errors.New("validate: not built yet"))
	}}
}
