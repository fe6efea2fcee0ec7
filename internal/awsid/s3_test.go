package awsid

import (
	"strings"
	"testing"
)

func TestBucketProblem(t *testing.T) {
	for name, want := range map[string]string{
		"fpga-builds":                   "",
		"a.b-c.1":                       "",
		"abc":                           "",
		strings.Repeat("a", 63):         "",
		"ab":                            "3 to 63 characters, this one 2",
		strings.Repeat("a", 64):         "this one 64",
		"FPGA-builds":                   "lower case",
		"fpga_builds":                   `not '_'`,
		"-fpga":                         "starts and ends with a letter or a digit",
		"fpga.":                         "starts and ends with a letter or a digit",
		"fpga..builds":                  "no two dots in a row",
		"192.168.5.4":                   "not an IP address",
		"xn--fpga":                      `start with "xn--"`,
		"sthree-fpga":                   `start with "sthree-"`,
		"fpga-s3alias":                  `end with "-s3alias"`,
		"fpga--ol-s3":                   `end with "--ol-s3"`,
		"fpga--x-s3":                    `end with "--x-s3"`,
		"fpga.mrap":                     `end with ".mrap"`,
		"192.168.5.4.fpga":              "",
		"fpga builds":                   `not ' '`,
		"amzn-s3-demo-bucket":           `start with "amzn-s3-demo-"`,
		"fpga-builds-" + "x" + "-table": "",
	} {
		got := BucketProblem(name)
		switch {
		case want == "" && got != "":
			t.Errorf("BucketProblem(%q) = %q, want none", name, got)
		case want != "" && !strings.Contains(got, want):
			t.Errorf("BucketProblem(%q) = %q, want it to say %q", name, got, want)
		}
	}
}

func TestSplitS3URI(t *testing.T) {
	for uri, want := range map[string][3]string{
		"s3://b/k":            {"b", "k", "true"},
		"s3://b/dir/k.tar":    {"b", "dir/k.tar", "true"},
		"s3://b/logs/":        {"b", "logs/", "true"},
		"s3://b/":             {"b", "", "true"},
		"s3://b":              {"", "", "false"},
		"https://b/k":         {"", "", "false"},
		"S3://b/k":            {"", "", "false"},
		"fpga-builds/dcp.tar": {"", "", "false"},
	} {
		b, k, ok := SplitS3URI(uri)
		if got := [3]string{b, k, map[bool]string{true: "true", false: "false"}[ok]}; ok && got != want || !ok && want[2] != "false" {
			t.Errorf("SplitS3URI(%q) = %q, want %q", uri, got, want)
		}
	}
}
