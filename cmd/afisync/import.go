package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/afisync/afisync/afi"
	"github.com/afisync/afisync/importer"
	"github.com/afisync/afisync/plan"
)

func newImportCmd(c *cli) *cobra.Command {
	var (
		o            importer.Options
		tags         []string
		accountFlags []string
		accountsFile string
	)
	cmd := &cobra.Command{
		Use:   "import --source-region REGION --name NAME [--select-name GLOB] [--tags KEY=VALUE ...] [--account NAME=PROFILE ...] [--accounts FILE]",
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

Several accounts: --account NAME=PROFILE (repeatable; --account PROFILE
names the account after its profile) and --accounts FILE (a file with an
accounts: mapping written as in a plan, role_arn accounts included) write
one plan with accounts: — each account's profile or role_arn and its id:
as STS reported it — whose entries carry account: NAME, each account's AFIs
imported with its own credentials as above. A copy shared with another
account of the import names it in share_with by name. Only the accounts
named are imported; --profile stays the command's own credentials, which
assume a role_arn account that has no source_profile. An account with
nothing to import that no other shares with is left out (the plan says
so). One account that fails (a missing profile, an expired SSO session, a
role that cannot be assumed, credentials reaching another account than its
id:) fails the import with a line naming it, and nothing is written.

Calls: GetCallerIdentity, DescribeRegions, one paginated DescribeFpgaImages
per enabled region, one DescribeFpgaImageAttribute per copy found (per
account, with STS AssumeRole for a role_arn account). Nothing changes in
AWS.

Exit codes: 0 the plan was written; 1 an AWS error (in any account), or no
AFI to import; 3 invalid command line or accounts file.`,
		Example: `  afisync import --source-region us-east-1 --name fpga-fleet > plans/fleet.yaml
  afisync import --source-region us-east-1 --name nic --select-name 'nic-*' --tags team=fpga --tags owner=platform > nic.yaml
  afisync validate --plan nic.yaml && afisync diff --plan nic.yaml   # would-adopt, no would-copy
  afisync sync --plan nic.yaml && afisync diff --plan nic.yaml --detailed-exitcode   # exit 0
  afisync import --source-region us-east-1 --name estate --account dev --account prod=prod-admin > estate.yaml
  afisync import --source-region us-east-1 --name estate --accounts accounts.yaml --profile ci > estate.yaml`,
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
			accounts, err := importAccounts(accountFlags, accountsFile)
			if err != nil {
				return withCode(exitInvalid, err)
			}
			o.Command = importCommand(o, tags, accountFlags, accountsFile)
			if accounts != nil {
				return importMany(ctx, c, o, accounts)
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
	fl.StringArrayVar(&accountFlags, "account", nil, "NAME=PROFILE: import that profile's AFIs as account NAME of a plan with accounts: (repeatable; PROFILE alone: NAME is the profile)")
	fl.StringVar(&accountsFile, "accounts", "", "a YAML file with an accounts: mapping, as in a plan (profile or role_arn accounts), whose AFIs to import")
	return cmd
}

// importAccounts reads the accounts of --account and --accounts: nil when
// neither is given.
func importAccounts(flags []string, file string) ([]plan.Account, error) {
	var accounts []plan.Account
	from := map[string]string{} // account name → where it is given
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--accounts: %w", err)
		}
		if accounts, err = plan.ParseAccounts(file, data); err != nil {
			return nil, err
		}
		for _, a := range accounts {
			from[a.Name] = fmt.Sprintf("%s:%d", file, a.Pos.Line)
		}
	}
	for _, f := range flags {
		name, profile, ok := strings.Cut(f, "=")
		if !ok {
			name, profile = f, f
		}
		switch {
		case name == "" || profile == "":
			return nil, fmt.Errorf("--account %q: write NAME=PROFILE, or PROFILE to name the account after it", f)
		case plan.AccountNameError(name) != nil:
			return nil, fmt.Errorf("--account %q: %w", f, plan.AccountNameError(name))
		case from[name] != "":
			return nil, fmt.Errorf("--account %q: account %s is given twice (also by %s): give each account one name", f, name, from[name])
		}
		from[name] = fmt.Sprintf("--account %s", shellWord(f))
		accounts = append(accounts, plan.Account{Name: name, Profile: profile})
	}
	return accounts, nil
}

// importMany is import with accounts: each account's AFIs gathered with its
// own credentials, one plan of all of them, written only when every
// account could be read.
func importMany(ctx context.Context, c *cli, o importer.Options, accounts []plan.Account) error {
	base := afi.Config{Profile: c.profile, Region: c.region, EndpointURL: c.endpointURL, PlanName: o.Name}
	got, errs := importer.GatherAccounts(ctx, base, accounts, o)
	if len(errs) > 0 {
		for _, err := range errs[:len(errs)-1] {
			fmt.Fprintf(c.stderr, "afisync: %v\n", err)
		}
		return withCode(exitFailed, fmt.Errorf("%v\nafisync: nothing written: %d of %s failed", errs[len(errs)-1], len(errs), plural(len(accounts), "account")))
	}
	res, err := importer.BuildAccounts(got, o)
	if err != nil {
		return withCode(exitFailed, err)
	}
	if _, err := c.stdout.Write(res.YAML); err != nil {
		return withCode(exitFailed, err)
	}
	var from []string
	for _, a := range got {
		if slices.Contains(res.Accounts, a.Name) {
			from = append(from, fmt.Sprintf("%s %s", a.Name, a.Inv.Account))
		}
	}
	msg := fmt.Sprintf("afisync: imported %s with %s in %s from %s in %s (%s)",
		plural(res.Entries, "AFI"), plural(res.Copies, "copy"), plural(res.Regions, "region"), plural(len(from), "account"), o.SourceRegion, strings.Join(from, ", "))
	if len(res.Left) > 0 {
		msg += fmt.Sprintf("; %s left out (listed at the end of the plan)", plural(len(res.Left), "AFI"))
	}
	if res.Changes > 0 {
		msg += fmt.Sprintf("; a sync changes %s beyond claiming it (see the comments)", plural(res.Changes, "copy"))
	}
	fmt.Fprintln(c.stderr, msg)
	for _, l := range res.LeftAccounts {
		fmt.Fprintf(c.stderr, "afisync: account %s; it is left out of the plan\n", l)
	}
	return nil
}

// importCommand is the import command line the plan's header quotes: the
// flags that decide what is imported, not where from (the endpoint and
// profile stay out).
func importCommand(o importer.Options, tags, accounts []string, accountsFile string) string {
	parts := []string{"afisync import", "--source-region", o.SourceRegion, "--name", shellWord(o.Name)}
	if o.SelectName != "" {
		parts = append(parts, "--select-name", shellWord(o.SelectName))
	}
	for _, kv := range tags {
		parts = append(parts, "--tags", shellWord(kv))
	}
	for _, a := range accounts {
		parts = append(parts, "--account", shellWord(a))
	}
	if accountsFile != "" {
		parts = append(parts, "--accounts", shellWord(accountsFile))
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
