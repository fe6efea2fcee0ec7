package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/importer"
	"github.com/afisync/afisync/plan"
)

func newImportCmd(c *cli) *cobra.Command {
	var (
		o        importer.Options
		tags     []string
		accounts []string
	)
	cmd := &cobra.Command{
		Use:   "import --source-region REGION --name NAME [--select-name GLOB] [--tags KEY=VALUE ...] [--account NAME=PROFILE ...]",
		Short: "Write a plan for the AFIs and copies that exist today",
		Long: `import writes to stdout a plan (version 1, named NAME) for the AFIs the
account owns in --source-region (or those whose name matches --select-name),
each with the regions where a copy of it — the same AGFI — exists today, in
every region the account has enabled. What all of an AFI's copies agree on
becomes the entry's settings: tags with the same value (never aws: or
afisync: ones), a name or description other than the source's, the
accounts every copy is shared with, public sharing when every copy is
public. --tags adds tags to defaults.tags (a sync then puts them on every
copy). Comments say where each entry came from, what could not be said, and
which AFIs were left out (those with no copy elsewhere, or not available).

A sync of the plan copies nothing: it claims the copies (the tags
afisync:source and afisync:plan:NAME), adopting those made by hand, after
which diff finds nothing to change. The plan passes validate; review it,
then add regions to replicate further.

--account NAME=PROFILE (repeatable) imports each profile's AFIs with its
own credentials into one plan with accounts: (each with its profile and
the ID it reached), every entry naming its account and spelling out its
settings, and the copies shared with another imported account naming it in
share_with by name.

Calls: GetCallerIdentity, DescribeRegions, one paginated DescribeFpgaImages
per enabled region, one DescribeFpgaImageAttribute per copy found. Nothing
changes in AWS.

Exit codes: 0 the plan was written; 1 an AWS error, or no AFI to import;
3 invalid command line.`,
		Example: `  afisync import --source-region us-east-1 --name fpga-fleet > plans/fleet.yaml
  afisync import --source-region us-east-1 --name nic --select-name 'nic-*' --tags team=fpga --tags owner=platform > nic.yaml
  afisync validate --plan nic.yaml && afisync diff --plan nic.yaml   # would-adopt, no would-copy
  afisync sync --plan nic.yaml && afisync diff --plan nic.yaml --detailed-exitcode   # exit 0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			o.Tags = map[string]string{}
			for _, kv := range tags {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					return withCode(exitInvalid, fmt.Errorf("--tags %q: write KEY=VALUE", kv))
				}
				o.Tags[k] = v
			}
			if err := o.Check(); err != nil {
				return withCode(exitInvalid, err)
			}
			if c.simulate {
				return withCode(exitInvalid, errors.New("import --simulate would read an empty simulator: run afisync sim, make AFIs in it, and point --endpoint-url at it"))
			}
			o.Command = importCommand(o, tags)
			if len(accounts) > 0 {
				return importAccounts(cmd, c, o, accounts)
			}
			client, err := afi.New(ctx, afi.Config{Profile: c.profile, Region: c.region, EndpointURL: c.endpointURL})
			if err != nil {
				return withCode(connectExitCode(err), err)
			}
			inv, err := importer.Gather(ctx, client, o)
			if err != nil {
				return withCode(exitFailed, afi.Explain(err))
			}
			res, err := importer.Build(inv, o)
			if err != nil {
				return withCode(exitFailed, err)
			}
			if _, err := c.stdout.Write(res.YAML); err != nil {
				return withCode(exitFailed, err)
			}
			msg := fmt.Sprintf("afisync: imported %s with %s in %s from account %s in %s",
				plural(res.Entries, "AFI"), plural(res.Copies, "copy"), plural(res.Regions, "region"), inv.Account, o.SourceRegion)
			if len(res.Left) > 0 {
				msg += fmt.Sprintf("; %s left out (listed at the end of the plan)", plural(len(res.Left), "AFI"))
			}
			if res.Changes > 0 {
				msg += fmt.Sprintf("; a sync changes %s beyond claiming it (see the comments)", plural(res.Changes, "copy"))
			}
			fmt.Fprintln(c.stderr, msg)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.SourceRegion, "source-region", "", "region whose AFIs are the sources (required)")
	fl.StringVar(&o.Name, "name", "", "the plan's name (required): its claim on every copy")
	fl.StringVar(&o.SelectName, "select-name", "", "import only AFIs whose name matches this glob (path.Match: * ? [abc])")
	fl.StringArrayVar(&tags, "tags", nil, "KEY=VALUE to add to defaults.tags (repeatable)")
	fl.StringArrayVar(&accounts, "account", nil, "NAME=PROFILE: import that profile's AFIs as account NAME of a plan with accounts: (repeatable; copies shared between them name each other by name)")
	return cmd
}

// importAccounts is import --account NAME=PROFILE …: each profile's AFIs
// gathered with its own credentials, one plan of all of them.
func importAccounts(cmd *cobra.Command, c *cli, o importer.Options, accounts []string) error {
	ctx := cmd.Context()
	for _, a := range accounts {
		o.Command += " --account " + shellWord(a)
	}
	var parts []importer.Part
	for _, a := range accounts {
		name, profile, ok := strings.Cut(a, "=")
		if !ok || name == "" || profile == "" {
			return withCode(exitInvalid, fmt.Errorf("--account %q: write NAME=PROFILE", a))
		}
		for _, pt := range parts {
			if pt.Name == name {
				return withCode(exitInvalid, fmt.Errorf("--account %s is given twice", name))
			}
		}
		base := afi.Config{Profile: c.profile, Region: c.region, EndpointURL: c.endpointURL, PlanName: o.Name}
		client, err := afi.New(ctx, afi.AccountConfig(base, plan.Account{Name: name, Profile: profile}))
		if err != nil {
			return withCode(connectExitCode(err), err)
		}
		inv, err := importer.Gather(ctx, client, o)
		if err != nil {
			return withCode(exitFailed, afi.Explain(err))
		}
		res, err := importer.Build(inv, o)
		if errors.Is(err, importer.ErrNothing) {
			fmt.Fprintf(c.stderr, "afisync: account %s: %v; it is left out\n", name, err)
			continue
		}
		if err != nil {
			return withCode(exitFailed, fmt.Errorf("account %s: %w", name, err))
		}
		parts = append(parts, importer.Part{Name: name, Profile: profile, ID: inv.Account, Result: res})
	}
	if len(parts) == 0 {
		return withCode(exitFailed, errors.New("no account has an AFI to import"))
	}
	res, err := importer.Merge(parts, o)
	if err != nil {
		return withCode(exitFailed, err)
	}
	if _, err := c.stdout.Write(res.YAML); err != nil {
		return withCode(exitFailed, err)
	}
	fmt.Fprintf(c.stderr, "afisync: imported %s with %s in %s from %s in %s\n",
		plural(res.Entries, "AFI"), plural(res.Copies, "copy"), plural(res.Regions, "region"), plural(len(parts), "account"), o.SourceRegion)
	return nil
}

// importCommand is the import command line the plan's header quotes: the
// flags that decide what is imported, not where from (the endpoint and
// profile stay out).
func importCommand(o importer.Options, tags []string) string {
	parts := []string{"afisync import", "--source-region", o.SourceRegion, "--name", shellWord(o.Name)}
	if o.SelectName != "" {
		parts = append(parts, "--select-name", shellWord(o.SelectName))
	}
	for _, kv := range tags {
		parts = append(parts, "--tags", shellWord(kv))
	}
	return strings.Join(parts, " ")
}

// shellWord quotes s for a POSIX shell when it needs quoting.
func shellWord(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.=/:,+@", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
