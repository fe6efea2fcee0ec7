package ec2sim_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/afisync/afisync/ec2sim"
)

// TestDescribeTags lists AFI tags as aws-fpga's docs do
// (describe-tags --filters Name=resource-type,Values=fpga-image), with
// every filter and pagination, through the SDK.
func TestDescribeTags(t *testing.T) {
	e := newEnv(t, ec2sim.Options{})
	const (
		a = "afi-0aaaaaaaaaaaaaaa1"
		b = "afi-0bbbbbbbbbbbbbbb2"
	)
	e.add(ec2sim.Image{ID: a, Region: "us-east-1", Tags: map[string]string{"team": "fpga", "env": "prod"}})
	e.add(ec2sim.Image{ID: b, Region: "us-east-1", State: "pending", Tags: map[string]string{"team": "net"}})
	e.add(ec2sim.Image{Region: "us-east-1"})                                                                  // no tags
	e.add(ec2sim.Image{Region: "us-west-2", Tags: map[string]string{"team": "fpga"}})                         // another Region
	e.add(ec2sim.Image{Region: "us-east-1", Account: acctB, Public: true, Tags: map[string]string{"x": "y"}}) // not owned
	east := e.ec2("us-east-1")
	tag := func(id, k, v string) string { return fmt.Sprintf("%s fpga-image %s=%s", id, k, v) }
	for _, tc := range []struct {
		name    string
		filters map[string][]string
		want    []string
	}{
		{"all", nil, []string{tag(a, "env", "prod"), tag(a, "team", "fpga"), tag(b, "team", "net")}},
		{"resource-type", map[string][]string{"resource-type": {"fpga-image"}}, []string{tag(a, "env", "prod"), tag(a, "team", "fpga"), tag(b, "team", "net")}},
		{"resource-type instance", map[string][]string{"resource-type": {"instance"}}, nil},
		{"resource-id", map[string][]string{"resource-id": {b}}, []string{tag(b, "team", "net")}},
		{"key", map[string][]string{"key": {"team"}}, []string{tag(a, "team", "fpga"), tag(b, "team", "net")}},
		{"value wildcard", map[string][]string{"value": {"f*", "n?t"}}, []string{tag(a, "team", "fpga"), tag(b, "team", "net")}},
		{"key and value", map[string][]string{"key": {"team"}, "value": {"net"}}, []string{tag(b, "team", "net")}},
		{"tag:KEY selects resources", map[string][]string{"tag:env": {"prod"}}, []string{tag(a, "env", "prod"), tag(a, "team", "fpga")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := &ec2.DescribeTagsInput{}
			for name, vals := range tc.filters {
				in.Filters = append(in.Filters, types.Filter{Name: aws.String(name), Values: vals})
			}
			out, err := east.DescribeTags(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, td := range out.Tags {
				got = append(got, tag(aws.ToString(td.ResourceId), aws.ToString(td.Key), aws.ToString(td.Value)))
				if td.ResourceType != types.ResourceTypeFpgaImage {
					t.Errorf("resource type %q", td.ResourceType)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v\nwant %v", got, tc.want)
			}
		})
	}
	_, err := east.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []types.Filter{{Name: aws.String("tag-key"), Values: []string{"x"}}}})
	apiErr(t, err, "InvalidParameterValue", 400, "The filter 'tag-key' is invalid")
	_, err = east.DescribeTags(ctx, &ec2.DescribeTagsInput{MaxResults: aws.Int32(4)})
	apiErr(t, err, "InvalidParameterValue", 400, "")

	// Pagination: 12 tags in pages of 5, with the SDK's paginator.
	for i := range 3 {
		e.add(ec2sim.Image{Region: "eu-west-1", Tags: map[string]string{"a": "1", "b": "2", "c": fmt.Sprint(i), "d": "4"}})
	}
	p := ec2.NewDescribeTagsPaginator(e.ec2("eu-west-1"), &ec2.DescribeTagsInput{MaxResults: aws.Int32(5)})
	var sizes []int
	seen := map[string]bool{}
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(out.Tags))
		for _, td := range out.Tags {
			seen[aws.ToString(td.ResourceId)+aws.ToString(td.Key)] = true
		}
	}
	if !slices.Equal(sizes, []int{5, 5, 2}) || len(seen) != 12 {
		t.Errorf("pages %v, %d distinct tags; want [5 5 2] and 12", sizes, len(seen))
	}
}
