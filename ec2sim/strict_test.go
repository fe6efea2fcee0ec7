package ec2sim_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/afisync/afisync/ec2sim"
)

// TestModifyNameAndDescription: name and description need their value, and
// one call modifies one attribute; nothing changes on a refused call.
func TestModifyNameAndDescription(t *testing.T) {
	e := newEnv(t, ec2sim.Options{})
	east := e.ec2("us-east-1")
	img := e.add(ec2sim.Image{Region: "us-east-1", Name: "keep-name", Description: "keep-description"})
	id := aws.String(img.ID)
	for _, tc := range []struct {
		name string
		in   ec2.ModifyFpgaImageAttributeInput
		code string
	}{
		{"name without a value", ec2.ModifyFpgaImageAttributeInput{Attribute: types.FpgaImageAttributeNameName}, "MissingParameter"},
		{"name with an empty value", ec2.ModifyFpgaImageAttributeInput{Attribute: types.FpgaImageAttributeNameName, Name: aws.String("")}, "MissingParameter"},
		{"description without a value", ec2.ModifyFpgaImageAttributeInput{Attribute: types.FpgaImageAttributeNameDescription}, "MissingParameter"},
		{"no attribute and no parameter", ec2.ModifyFpgaImageAttributeInput{}, "MissingParameter"},
		{"name and description without attribute", ec2.ModifyFpgaImageAttributeInput{Name: aws.String("n2"), Description: aws.String("d2")}, "InvalidParameterCombination"},
		{"attribute name with a description", ec2.ModifyFpgaImageAttributeInput{Attribute: types.FpgaImageAttributeNameName, Name: aws.String("n2"), Description: aws.String("d2")}, "InvalidParameterCombination"},
		{"attribute description with product codes", ec2.ModifyFpgaImageAttributeInput{Attribute: types.FpgaImageAttributeNameDescription, Description: aws.String("d2"), ProductCodes: []string{"pc"}}, "InvalidParameterCombination"},
		{"load permission with a name", ec2.ModifyFpgaImageAttributeInput{Name: aws.String("n2"), OperationType: types.OperationTypeAdd, UserIds: []string{acctB}}, "InvalidParameterCombination"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.FpgaImageId = id
			_, err := east.ModifyFpgaImageAttribute(ctx, &tc.in)
			apiErr(t, err, tc.code, 400, "")
			got, _ := e.sim.Image(img.ID)
			if got.Name != "keep-name" || got.Description != "keep-description" || len(got.LoadPermissions) != 0 || len(got.ProductCodes) != 0 {
				t.Errorf("a refused call changed the AFI: %+v", got)
			}
		})
	}
	// One attribute at a time works, with or without Attribute.
	for _, in := range []ec2.ModifyFpgaImageAttributeInput{
		{FpgaImageId: id, Name: aws.String("n2")},
		{FpgaImageId: id, Attribute: types.FpgaImageAttributeNameDescription, Description: aws.String("d2")},
	} {
		if _, err := east.ModifyFpgaImageAttribute(ctx, &in); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := e.sim.Image(img.ID); got.Name != "n2" || got.Description != "d2" {
		t.Errorf("after two modifications: %q, %q", got.Name, got.Description)
	}
}

// rewriteBody is an HTTP client that edits the form body the SDK built
// (after signing, which the simulator does not check): it lets the real
// client send values its types cannot express.
type rewriteBody struct {
	c        *http.Client
	old, new string
}

func (rb rewriteBody) Do(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		b = bytes.ReplaceAll(b, []byte(rb.old), []byte(rb.new))
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	}
	return rb.c.Do(r)
}

// TestMalformedBooleans: DryRun=maybe is refused, not read as false.
func TestMalformedBooleans(t *testing.T) {
	e := newEnv(t, ec2sim.Options{})
	img := e.add(ec2sim.Image{Region: "us-east-1"})
	for _, v := range []string{"maybe", "1", "yes", ""} {
		t.Run("DryRun="+v, func(t *testing.T) {
			c := ec2.New(ec2.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.srv.URL),
				Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
				HTTPClient:  rewriteBody{e.srv.Client(), "DryRun=true", "DryRun=" + v}})
			_, err := c.DeleteFpgaImage(ctx, &ec2.DeleteFpgaImageInput{FpgaImageId: aws.String(img.ID), DryRun: aws.Bool(true)})
			apiErr(t, err, "InvalidParameterValue", 400, "Value ("+v+") for parameter dryRun is invalid. Expected: 'true' or 'false'.")
			if _, ok := e.sim.Image(img.ID); !ok {
				t.Fatal("the AFI was deleted")
			}
		})
	}
	c := ec2.New(ec2.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
		HTTPClient:  rewriteBody{e.srv.Client(), "DryRun=true", "DryRun=TRUE"}})
	_, err := c.DeleteFpgaImage(ctx, &ec2.DeleteFpgaImageInput{FpgaImageId: aws.String(img.ID), DryRun: aws.Bool(true)})
	apiErr(t, err, "DryRunOperation", 412, "")
	_, err = e.ec2("us-east-1").DescribeRegions(ctx, &ec2.DescribeRegionsInput{AllRegions: aws.Bool(true)})
	if err != nil {
		t.Errorf("AllRegions=true: %v", err)
	}
}

// TestNextTokenIsBound: a NextToken is accepted only by the account, Region,
// action and query it was issued for.
func TestNextTokenIsBound(t *testing.T) {
	e := newEnv(t, ec2sim.Options{})
	for _, r := range []string{"us-east-1", "us-west-2"} {
		for range 7 {
			e.add(ec2sim.Image{Region: r, Tags: map[string]string{"team": "fpga"}})
			e.add(ec2sim.Image{Region: r, Account: acctB, Public: true})
		}
	}
	east := e.ec2("us-east-1")
	first := func(in ec2.DescribeFpgaImagesInput) string {
		t.Helper()
		in.MaxResults = aws.Int32(5)
		out, err := east.DescribeFpgaImages(ctx, &in)
		if err != nil || out.NextToken == nil {
			t.Fatalf("first page: %v, token %v", err, out.NextToken)
		}
		return *out.NextToken
	}
	tok := first(ec2.DescribeFpgaImagesInput{Owners: []string{"self"}})
	for _, tc := range []struct {
		name   string
		client *ec2.Client
		in     ec2.DescribeFpgaImagesInput
	}{
		{"another Region", e.ec2("us-west-2"), ec2.DescribeFpgaImagesInput{Owners: []string{"self"}}},
		{"another account", e.ec2("us-east-1", "AKIDB"), ec2.DescribeFpgaImagesInput{Owners: []string{"self"}}},
		{"another owner", east, ec2.DescribeFpgaImagesInput{Owners: []string{acctB}}},
		{"no owner", east, ec2.DescribeFpgaImagesInput{}},
		{"a filter added", east, ec2.DescribeFpgaImagesInput{Owners: []string{"self"}, Filters: []types.Filter{{Name: aws.String("state"), Values: []string{"available"}}}}},
		{"a forged token", east, ec2.DescribeFpgaImagesInput{Owners: []string{"self"}, NextToken: aws.String(tok[:len(tok)-2])}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.in.NextToken == nil {
				tc.in.NextToken = aws.String(tok)
			}
			_, err := tc.client.DescribeFpgaImages(ctx, &tc.in)
			apiErr(t, err, "InvalidPaginationToken", 400, "The specified pagination token is not valid or is expired.")
		})
	}
	// The same query continues, with any page size.
	out, err := east.DescribeFpgaImages(ctx, &ec2.DescribeFpgaImagesInput{Owners: []string{"self"}, NextToken: aws.String(tok), MaxResults: aws.Int32(1000)})
	if err != nil || len(out.FpgaImages) != 2 || out.NextToken != nil {
		t.Errorf("second page: %v, %d images, token %v", err, len(out.FpgaImages), out.NextToken)
	}
	// A DescribeFpgaImages token is no DescribeTags token, and the other way round.
	_, err = east.DescribeTags(ctx, &ec2.DescribeTagsInput{NextToken: aws.String(tok)})
	apiErr(t, err, "InvalidPaginationToken", 400, "")
	tags, err := east.DescribeTags(ctx, &ec2.DescribeTagsInput{MaxResults: aws.Int32(5)})
	if err != nil || tags.NextToken == nil {
		t.Fatalf("DescribeTags page: %v", err)
	}
	_, err = east.DescribeFpgaImages(ctx, &ec2.DescribeFpgaImagesInput{NextToken: tags.NextToken})
	apiErr(t, err, "InvalidPaginationToken", 400, "")
}

// TestFieldsPerState: what DescribeFpgaImages shows of a copy in each state
// (AWS's copy_fpga_image examples): no product codes while pending or
// failed, all of them once available.
func TestFieldsPerState(t *testing.T) {
	e := newEnv(t, ec2sim.Options{})
	src := e.add(ec2sim.Image{Region: "us-east-1", Name: "n", Description: "d", ProductCodes: []string{"pc-1"}})
	west := e.ec2("us-west-2")
	cp, err := west.CopyFpgaImage(ctx, copyInput(src.ID, "us-east-1", ""))
	if err != nil {
		t.Fatal(err)
	}
	e.sim.SetFailRate(1)
	bad, err := west.CopyFpgaImage(ctx, copyInput(src.ID, "us-east-1", ""))
	if err != nil {
		t.Fatal(err)
	}
	byCode := func() []string {
		out, err := west.DescribeFpgaImages(ctx, &ec2.DescribeFpgaImagesInput{Filters: []types.Filter{{Name: aws.String("product-code"), Values: []string{"pc-1"}}}})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, img := range out.FpgaImages {
			ids = append(ids, aws.ToString(img.FpgaImageId))
		}
		return ids
	}
	pending := e.describe(west, *cp.FpgaImageId)
	if pending.State.Code != types.FpgaImageStateCodePending || pending.ProductCodes != nil || pending.Public != nil || pending.FpgaImageGlobalId != nil ||
		aws.ToString(pending.Name) != "n" || aws.ToString(pending.Description) != "d" {
		t.Errorf("pending copy: %+v", pending)
	}
	if ids := byCode(); len(ids) != 0 {
		t.Errorf("product-code filter matches pending copies %v", ids)
	}
	e.clock.Advance(time.Hour)
	avail := e.describe(west, *cp.FpgaImageId)
	if avail.State.Code != types.FpgaImageStateCodeAvailable || len(avail.ProductCodes) != 1 || aws.ToString(avail.ProductCodes[0].ProductCodeId) != "pc-1" {
		t.Errorf("available copy: %+v", avail)
	}
	failed := e.describe(west, *bad.FpgaImageId)
	if failed.State.Code != types.FpgaImageStateCodeFailed || failed.ProductCodes != nil || failed.Name != nil {
		t.Errorf("failed copy: %+v", failed)
	}
	if ids := byCode(); len(ids) != 1 || ids[0] != *cp.FpgaImageId {
		t.Errorf("product-code filter matches %v, want the available copy only", ids)
	}
}

// headerClient records the headers of the last response.
type headerClient struct {
	c    *http.Client
	last *http.Header
}

func (hc headerClient) Do(r *http.Request) (*http.Response, error) {
	resp, err := hc.c.Do(r)
	if err == nil {
		*hc.last = resp.Header.Clone()
	}
	return resp, err
}

// TestServerHeaderAndMethods: STS answers carry no "Server: AmazonEC2";
// methods other than GET and POST get 405 in the service's error format.
func TestServerHeaderAndMethods(t *testing.T) {
	e := newEnv(t, ec2sim.Options{})
	var h http.Header
	hc := headerClient{e.srv.Client(), &h}
	st := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""), HTTPClient: hc})
	if _, err := st.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	if got := h.Get("Server"); got != "" {
		t.Errorf("STS Server header = %q, want none", got)
	}
	ec := ec2.New(ec2.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""), HTTPClient: hc})
	if _, err := ec.DescribeRegions(ctx, &ec2.DescribeRegionsInput{}); err != nil {
		t.Fatal(err)
	}
	if got := h.Get("Server"); got != "AmazonEC2" {
		t.Errorf("EC2 Server header = %q, want AmazonEC2", got)
	}

	for _, tc := range []struct{ method, service, want string }{
		{"PUT", "ec2", "<Response><Errors><Error><Code>UnsupportedHttpVerb</Code><Message>The HTTP method PUT is not supported; send Query requests with POST or GET.</Message></Error></Errors><RequestID>"},
		{"DELETE", "ec2", "<Code>UnsupportedHttpVerb</Code>"},
		{"PUT", "sts", "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>UnsupportedHttpVerb</Code>"},
	} {
		r := httptest.NewRequest(tc.method, "/?Action=DescribeRegions&Version=2016-11-15", nil)
		r.Header.Set("Authorization", strings.Replace(authEast, "/ec2/", "/"+tc.service+"/", 1))
		w := httptest.NewRecorder()
		e.sim.ServeHTTP(w, r)
		if w.Code != 405 || w.Header().Get("Allow") != "GET, POST" || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/xml") ||
			!strings.Contains(w.Body.String(), tc.want) || w.Header().Get("x-amzn-RequestId") == "" {
			t.Errorf("%s (%s): %d %v\n%s", tc.method, tc.service, w.Code, w.Header(), w.Body)
		}
	}
}
