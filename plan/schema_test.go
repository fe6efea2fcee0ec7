package plan

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// readmeRow is a row of a table in the README's plan reference: the key, and
// the cells after it.
type readmeRow struct {
	Key   string
	Cells []string
}

// readmeTables reads the tables of the README's "Plan reference" section,
// by the heading above each.
func readmeTables(t *testing.T) map[string][]readmeRow {
	t.Helper()
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n## Plan reference")
	if !ok {
		t.Fatal(`README.md has no "## Plan reference" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	tables := map[string][]readmeRow{}
	heading := ""
	for _, line := range strings.Split(section, "\n") {
		if h, ok := strings.CutPrefix(line, "### "); ok {
			heading = h
			continue
		}
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		key := strings.Trim(cells[0], "`")
		tables[heading] = append(tables[heading], readmeRow{key, cells[1:]})
	}
	return tables
}

// TestREADMEListsTheSchema holds the README's plan reference to the schema:
// each table lists exactly the keys of its mapping, in table order, with the
// type the schema gives (and, where the table has the column, whether the key
// is required and the default of defaults).
func TestREADMEListsTheSchema(t *testing.T) {
	var top, accounts, defaults, settings, entries []readmeRow
	for _, k := range topKeys {
		required := "no"
		if k.required != "" {
			required = "yes"
		}
		top = append(top, readmeRow{k.name, []string{k.typ, required}})
	}
	for _, k := range accountKeys {
		accounts = append(accounts, readmeRow{k.name, []string{k.typ}})
	}
	schema := draftOf(schemaDefaults)
	for _, k := range defaultsKeys {
		def := "—"
		if k.typ == "boolean" {
			def = "`" + k.node(schema).Value + "`"
		}
		defaults = append(defaults, readmeRow{k.name, []string{k.typ, def}})
	}
	for _, k := range settingsKeys {
		settings = append(settings, readmeRow{k.name, []string{k.typ}})
	}
	for _, k := range entryKeys {
		entries = append(entries, readmeRow{k.name, []string{k.typ}})
		if k.name == "select" {
			for _, s := range selectKeys {
				entries = append(entries, readmeRow{"select." + s.name, []string{s.typ}})
			}
		}
		if k.name == "build" {
			for _, s := range buildKeys {
				entries = append(entries, readmeRow{"build." + s.name, []string{s.typ}})
			}
		}
	}
	want := map[string][]readmeRow{
		"Top level":        top,
		"`accounts`":       accounts,
		"`defaults`":       defaults,
		"`settings`":       settings,
		"Entries (`afis`)": entries,
	}
	got := readmeTables(t)
	for heading, rows := range got {
		if len(want[heading]) == 0 {
			t.Errorf("README plan reference: table %q is not a mapping of the schema", heading)
			continue
		}
		columns := len(want[heading][0].Cells) // the columns the schema gives
		for i := range rows {
			rows[i].Cells = rows[i].Cells[:min(columns, len(rows[i].Cells))]
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("README.md's plan reference and the schema differ (-schema +README):\n%s", diff)
	}
}

// TestInheritance states, for every inherited key, what an entry gets: the
// defaults' value when it does not write the key, and the merged value when
// it does. A new inherited key must add its row.
func TestInheritance(t *testing.T) {
	tests := map[string]struct{ defaults, entry, merged string }{
		"account":           {"dev", "prod", "prod"},
		"source_region":     {"eu-west-1", "eu-west-2", "eu-west-2"},
		"regions":           {"[us-west-2, eu-west-1]", "[ap-southeast-2]", "[ap-southeast-2]"},
		"tags":              {"{a: x, b: y}", "{b: z, c: w}", "{a: x, b: z, c: w}"},
		"copy_source_tags":  {"false", "true", "true"},
		"share_with":        {`["111122223333"]`, `["444455556666"]`, `["444455556666"]`},
		"share_with_groups": {"[all]", "[]", "[]"},
		"exclusive_tags":    {"true", "false", "false"},
		"exclusive_sharing": {"true", "false", "false"},
		"retain":            {"{keep_last: 5}", "{keep_newer_than: 30d, match: {name_prefix: shell-}}", "{keep_newer_than: 30d, match: {name_prefix: shell-}}"},
	}
	// decoded reads a YAML value, and a node written by the schema, the same
	// way, so that they compare whatever their style.
	decoded := func(t *testing.T, v any) any {
		t.Helper()
		var data []byte
		switch v := v.(type) {
		case string:
			data = []byte(v)
		case *yaml.Node:
			var err error
			if data, err = yaml.Marshal(v); err != nil {
				t.Fatal(err)
			}
		}
		var out any
		if err := yaml.Unmarshal(data, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, k := range defaultsKeys {
		tc, ok := tests[k.name]
		if !ok {
			t.Errorf("inherited key %s has no row in TestInheritance: say how an entry gets it", k.name)
			continue
		}
		t.Run(k.name, func(t *testing.T) {
			defaults := map[string]string{"source_region": "us-east-1", "regions": "[us-west-2]", k.name: tc.defaults}
			var pairs []string
			for _, d := range defaultsKeys {
				if v, ok := defaults[d.name]; ok {
					pairs = append(pairs, d.name+": "+v)
				}
			}
			first, second := "id: afi-0123456789abcdef0", "id: afi-0fedcba9876543210"
			if k.name == "retain" {
				// A retention rule applies to select entries only.
				first, second = "select: {name: a*}", "select: {name: b*}"
			}
			accounts := ""
			if k.name == "account" {
				accounts = "accounts: {dev: {profile: dev}, prod: {profile: prod}}\n"
			}
			src := "version: 1\nname: inherit\n" + accounts + "defaults: {" + strings.Join(pairs, ", ") + "}\nafis:\n" +
				"  - {" + first + "}\n" +
				"  - {" + second + ", " + k.name + ": " + tc.entry + "}\n"
			p, err := Parse("inherit.yaml", []byte(src))
			if err != nil {
				t.Fatalf("%v\n%s", err, src)
			}
			d := draftOf(p.Defaults)
			for i, want := range []string{tc.defaults, tc.merged} {
				got := k.node(&entryDraft{Entry: &p.AFIs[i]})
				if diff := cmp.Diff(decoded(t, want), decoded(t, got)); diff != "" {
					t.Errorf("entry %d (-want +got):\n%s", i+1, diff)
				}
			}
			if diff := cmp.Diff(decoded(t, tc.defaults), decoded(t, k.node(d))); diff != "" {
				t.Errorf("Plan.Defaults (-want +got):\n%s", diff)
			}
		})
	}
}
