package ec2sim_test

import (
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/afisync/afisync/ec2sim"
)

// TestFilters runs every DescribeFpgaImages filter through the SDK.
func TestFilters(t *testing.T) {
	e := newEnv(t, ec2sim.Options{})
	mk := func(id, name, state string, tags map[string]string, extra func(*ec2sim.Image)) ec2sim.Image {
		img := ec2sim.Image{ID: id, AGFI: "agfi-" + id[4:], Region: "us-east-1", Name: name, State: state, Tags: tags, CreateTime: t0.Add(-48 * time.Hour)}
		if extra != nil {
			extra(&img)
		}
		return e.add(img)
	}
	const (
		a = "afi-0aaaaaaaaaaaaaaa1"
		b = "afi-0bbbbbbbbbbbbbbb2"
		c = "afi-0ccccccccccccccc3"
		d = "afi-0ddddddddddddddd4"
	)
	mk(a, "cl_dram", "", map[string]string{"team": "fpga", "env": "prod"}, func(i *ec2sim.Image) { i.ProductCodes = []string{"pc-1"} })
	mk(b, "cl_hello", "", map[string]string{"team": "net"}, func(i *ec2sim.Image) { i.ShellVersion = "0x04261818"; i.CreateTime = t0.Add(-24 * time.Hour) })
	mk(c, "cl_pending", "pending", nil, nil)
	mk(d, "other", "failed", map[string]string{"Team": "fpga"}, func(i *ec2sim.Image) { i.Message = "DCP_CORRUPT"; i.UpdateTime = t0.Add(-time.Hour) })
	east := e.ec2("us-east-1")

	for _, tc := range []struct {
		name    string
		filters map[string][]string
		want    []string
	}{
		{"no filter", nil, []string{a, b, c, d}},
		{"name exact", map[string][]string{"name": {"cl_hello"}}, []string{b}},
		{"name wildcard", map[string][]string{"name": {"cl_*"}}, []string{a, b, c}},
		{"name ? wildcard", map[string][]string{"name": {"cl_d?am"}}, []string{a}},
		{"name values are ORed", map[string][]string{"name": {"cl_hello", "other"}}, []string{b, d}},
		{"name is case-sensitive", map[string][]string{"name": {"CL_*"}}, nil},
		{"state available", map[string][]string{"state": {"available"}}, []string{a, b}},
		{"state pending|failed", map[string][]string{"state": {"pending", "failed"}}, []string{c, d}},
		{"fpga-image-id", map[string][]string{"fpga-image-id": {b}}, []string{b}},
		{"fpga-image-id wildcard", map[string][]string{"fpga-image-id": {"afi-0c*", "afi-0d*"}}, []string{c, d}},
		{"global id of available", map[string][]string{"fpga-image-global-id": {"agfi-" + a[4:]}}, []string{a}},
		{"global id hidden while pending", map[string][]string{"fpga-image-global-id": {"agfi-" + c[4:]}}, nil},
		{"owner-id", map[string][]string{"owner-id": {acctA}}, []string{a, b, c, d}},
		{"owner-id other", map[string][]string{"owner-id": {acctB}}, nil},
		{"shell-version", map[string][]string{"shell-version": {"0x04261818"}}, []string{b}},
		{"shell-version hidden unless available", map[string][]string{"shell-version": {"0x071417d3"}}, []string{a}},
		{"product-code", map[string][]string{"product-code": {"pc-1"}}, []string{a}},
		{"tag:team", map[string][]string{"tag:team": {"fpga"}}, []string{a}},
		{"tag keys are case-sensitive", map[string][]string{"tag:Team": {"fpga"}}, []string{d}},
		{"tag:team wildcard", map[string][]string{"tag:team": {"*"}}, []string{a, b}},
		{"tag-key", map[string][]string{"tag-key": {"env"}}, []string{a}},
		{"tag-key wildcard", map[string][]string{"tag-key": {"?eam"}}, []string{a, b, d}},
		{"tag-value", map[string][]string{"tag-value": {"fpga"}}, []string{a, d}},
		{"create-time wildcard", map[string][]string{"create-time": {t0.Add(-24*time.Hour).Format("2006-01-02") + "*"}}, []string{b}},
		{"create-time exact", map[string][]string{"create-time": {t0.Add(-48 * time.Hour).Format("2006-01-02T15:04:05.000Z")}}, []string{a, c, d}},
		{"update-time", map[string][]string{"update-time": {t0.Add(-time.Hour).Format("2006-01-02T15:04:05.000Z")}}, []string{d}},
		{"filters are ANDed", map[string][]string{"name": {"cl_*"}, "state": {"available"}, "tag:team": {"net"}}, []string{b}},
		{"same filter twice", map[string][]string{"name": {"cl_hello"}, "tag:team": {"fpga"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var fs []types.Filter
			for n, v := range tc.filters {
				fs = append(fs, types.Filter{Name: aws.String(n), Values: v})
			}
			out, err := east.DescribeFpgaImages(ctx, &ec2.DescribeFpgaImagesInput{Filters: fs})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, img := range out.FpgaImages {
				got = append(got, aws.ToString(img.FpgaImageId))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if out.FpgaImages == nil {
				t.Error("empty result must still carry <fpgaImageSet/> (non-nil slice)")
			}
		})
	}
}

func TestOwnersAndVisibility(t *testing.T) {
	e := newEnv(t, ec2sim.Options{})
	mine := e.add(ec2sim.Image{Region: "us-east-1"})
	sharedWithMe := e.add(ec2sim.Image{Region: "us-east-1", Account: acctB, LoadPermissions: []string{acctA}})
	public := e.add(ec2sim.Image{Region: "us-east-1", Account: "095707098027", OwnerAlias: "amazon", Public: true, Name: "hello_world_1.3.0"})
	e.add(ec2sim.Image{Region: "us-east-1", Account: acctC}) // private to C
	e.add(ec2sim.Image{Region: "us-west-2"})                 // other Region
	east := e.ec2("us-east-1")
	ids := func(owners ...string) []string {
		t.Helper()
		out, err := east.DescribeFpgaImages(ctx, &ec2.DescribeFpgaImagesInput{Owners: owners})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, img := range out.FpgaImages {
			got = append(got, aws.ToString(img.FpgaImageId))
		}
		sort.Strings(got)
		return got
	}
	sorted := func(s ...string) []string { sort.Strings(s); return s }
	for _, tc := range []struct {
		owners []string
		want   []string
	}{
		{nil, sorted(mine.ID, sharedWithMe.ID, public.ID)},
		{[]string{"self"}, []string{mine.ID}},
		{[]string{acctB}, []string{sharedWithMe.ID}},
		{[]string{"amazon"}, []string{public.ID}},
		{[]string{"self", "amazon"}, sorted(mine.ID, public.ID)},
		{[]string{acctC}, nil},
	} {
		if got := ids(tc.owners...); !slices.Equal(got, tc.want) {
			t.Errorf("Owners %v: got %v, want %v", tc.owners, got, tc.want)
		}
	}
	img := e.describe(east, public.ID)
	if aws.ToString(img.OwnerAlias) != "amazon" || !aws.ToBool(img.Public) {
		t.Errorf("Amazon's public AFI: %+v", img)
	}
	_, err := east.DescribeFpgaImages(ctx, &ec2.DescribeFpgaImagesInput{Owners: []string{"12345"}})
	apiErr(t, err, "InvalidUserID.Malformed", 400, "User ID '12345' is invalid")
}

func TestDescribeErrors(t *testing.T) {
	e := newEnv(t, ec2sim.Options{})
	img := e.add(ec2sim.Image{Region: "us-east-1"})
	east := e.ec2("us-east-1")
	for _, tc := range []struct {
		name string
		in   ec2.DescribeFpgaImagesInput
		code string
		msg  string
	}{
		{"unknown ID fails the whole call", ec2.DescribeFpgaImagesInput{FpgaImageIds: []string{img.ID, "afi-03d027a3318440a77"}}, "InvalidFpgaImageID.NotFound", "Image ID 'afi-03d027a3318440a77' not found"},
		{"ID in another Region", ec2.DescribeFpgaImagesInput{FpgaImageIds: []string{img.ID}}, "", ""},
		{"malformed ID", ec2.DescribeFpgaImagesInput{FpgaImageIds: []string{"afi-06d0ffc989feeeXXX"}}, "InvalidFpgaImageID.Malformed", "Image ID 'afi-06d0ffc989feeeXXX' is invalid"},
		{"bad filter", ec2.DescribeFpgaImagesInput{Filters: []types.Filter{{Name: aws.String("bad-filter"), Values: []string{"x"}}}}, "InvalidParameterValue", "The filter 'bad-filter' is invalid"},
		{"MaxResults too small", ec2.DescribeFpgaImagesInput{MaxResults: aws.Int32(4)}, "InvalidParameterValue", ""},
		{"MaxResults too big", ec2.DescribeFpgaImagesInput{MaxResults: aws.Int32(1001)}, "InvalidParameterValue", ""},
		{"bad NextToken", ec2.DescribeFpgaImagesInput{NextToken: aws.String("garbage")}, "InvalidPaginationToken", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := east
			if tc.code == "" {
				client = e.ec2("us-west-2")
				tc.code, tc.msg = "InvalidFpgaImageID.NotFound", "Image ID '"+img.ID+"' not found"
			}
			_, err := client.DescribeFpgaImages(ctx, &tc.in)
			apiErr(t, err, tc.code, 400, tc.msg)
		})
	}
}

func TestPagination(t *testing.T) {
	e := newEnv(t, ec2sim.Options{Seed: 7})
	var want []string
	for i := range 23 {
		img := e.add(ec2sim.Image{Region: "eu-west-1", Name: fmt.Sprintf("img-%02d", i)})
		want = append(want, img.ID)
	}
	e.add(ec2sim.Image{Region: "eu-west-1", Account: acctB}) // not visible
	sort.Strings(want)
	e.sim.ResetStats()

	p := ec2.NewDescribeFpgaImagesPaginator(e.ec2("eu-west-1"), &ec2.DescribeFpgaImagesInput{Owners: []string{"self"}, MaxResults: aws.Int32(5)})
	var got []string
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(out.FpgaImages) > 5 {
			t.Errorf("page %d has %d items", pages, len(out.FpgaImages))
		}
		for _, img := range out.FpgaImages {
			got = append(got, aws.ToString(img.FpgaImageId))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("paged IDs:\n got %v\nwant %v", got, want)
	}
	if pages != 5 {
		t.Errorf("pages = %d, want 5", pages)
	}
	if n := e.sim.Stats().Count("DescribeFpgaImages", "eu-west-1", "ok"); n != 5 {
		t.Errorf("DescribeFpgaImages calls = %d, want 5", n)
	}
	// Exactly a page: no token on the last page.
	out, err := e.ec2("eu-west-1").DescribeFpgaImages(ctx, &ec2.DescribeFpgaImagesInput{Owners: []string{"self"}, MaxResults: aws.Int32(23)})
	if err != nil || len(out.FpgaImages) != 23 || out.NextToken != nil {
		t.Errorf("MaxResults = total: %v, %d items, token %v", err, len(out.FpgaImages), out.NextToken)
	}
}

func TestTagsRoundTrip(t *testing.T) {
	e := newEnv(t, ec2sim.Options{})
	east := e.ec2("us-east-1")
	a := e.add(ec2sim.Image{Region: "us-east-1"})
	b := e.add(ec2sim.Image{Region: "us-east-1", State: "pending"})
	tagsOf := func(id string) map[string]string {
		m := map[string]string{}
		for _, tg := range e.describe(east, id).Tags {
			m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		return m
	}
	_, err := east.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{a.ID, b.ID}, Tags: []types.Tag{
		{Key: aws.String("afisync:plan"), Value: aws.String("fleet")}, {Key: aws.String("team"), Value: aws.String("fpga")}, {Key: aws.String("empty"), Value: aws.String("")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := tagsOf(b.ID); len(got) != 3 || got["afisync:plan"] != "fleet" || got["empty"] != "" {
		t.Fatalf("tags after CreateTags: %v", got)
	}
	// Value mismatch keeps the tag; key only deletes it; empty value matches "".
	_, err = east.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{a.ID}, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("other")}, {Key: aws.String("afisync:plan")}, {Key: aws.String("empty"), Value: aws.String("")}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := tagsOf(a.ID); len(got) != 1 || got["team"] != "fpga" {
		t.Errorf("tags after DeleteTags: %v", got)
	}
	// No Tag.N deletes all.
	if _, err := east.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{a.ID}}); err != nil {
		t.Fatal(err)
	}
	if got := tagsOf(a.ID); len(got) != 0 {
		t.Errorf("tags after DeleteTags without tags: %v", got)
	}

	for _, tc := range []struct {
		name string
		in   ec2.CreateTagsInput
		code string
	}{
		{"reserved prefix", ec2.CreateTagsInput{Resources: []string{a.ID}, Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}}, "InvalidParameterValue"},
		{"not an AFI", ec2.CreateTagsInput{Resources: []string{"i-0123456789abcdef0"}, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}, "InvalidID"},
		{"unknown AFI", ec2.CreateTagsInput{Resources: []string{a.ID, "afi-0123456789abcdef0"}, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}, "InvalidFpgaImageID.NotFound"},
		{"malformed AFI", ec2.CreateTagsInput{Resources: []string{"afi-1"}, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}, "InvalidFpgaImageID.Malformed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := east.CreateTags(ctx, &tc.in)
			apiErr(t, err, tc.code, 400, "")
		})
	}
	if got := tagsOf(a.ID); len(got) != 0 {
		t.Errorf("a failed CreateTags changed tags: %v", got)
	}
	many := make([]types.Tag, 51)
	for i := range many {
		many[i] = types.Tag{Key: aws.String(fmt.Sprint("k", i)), Value: aws.String("v")}
	}
	_, err = east.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{a.ID}, Tags: many})
	apiErr(t, err, "TagLimitExceeded", 400, "")
}

func TestDescribeRegions(t *testing.T) {
	e := newEnv(t, ec2sim.Options{})
	out, err := e.ec2("us-east-2").DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Regions) < 30 {
		t.Errorf("DescribeRegions lists %d regions", len(out.Regions))
	}
	var sawOhio bool
	for _, r := range out.Regions {
		if aws.ToString(r.RegionName) == "us-east-2" && aws.ToString(r.Endpoint) == "ec2.us-east-2.amazonaws.com" && aws.ToString(r.OptInStatus) == "opt-in-not-required" {
			sawOhio = true
		}
	}
	if !sawOhio {
		t.Errorf("us-east-2 missing or wrong: %+v", out.Regions)
	}
	f, err := e.ec2("us-east-1").DescribeRegions(ctx, &ec2.DescribeRegionsInput{Filters: []types.Filter{{Name: aws.String("region-name"), Values: []string{"eu-*"}}}, RegionNames: []string{"eu-west-1", "us-east-1"}})
	if err != nil || len(f.Regions) != 1 || aws.ToString(f.Regions[0].RegionName) != "eu-west-1" {
		t.Errorf("filtered: %v %+v", err, f)
	}
}
