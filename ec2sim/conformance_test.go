package ec2sim_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/afisync/afisync/ec2sim"
)

// modelSubset is testdata/ec2-model-subset.json, written by
// internal/modelgen from botocore's EC2 model.
type modelSubset struct {
	Operations map[string]string `json:"operations"`
	Shapes     map[string]struct {
		Type       string            `json:"type"`
		Members    map[string]string `json:"members"`
		Member     string            `json:"member"`
		MemberName string            `json:"memberName"`
	} `json:"shapes"`
}

// extraElements are elements real EC2 sends that the model does not
// declare: requestId on every response, and <return>true</return> on
// CreateTags/DeleteTags (AWS API reference sample responses), whose model
// output is empty.
var extraElements = map[string][]string{
	"*":          {"requestId"},
	"CreateTags": {"return"},
	"DeleteTags": {"return"},
}

func loadSubset(t *testing.T) *modelSubset {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "ec2-model-subset.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m modelSubset
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

// conforms checks one response body against the model and returns the
// problems found (element paths that the model does not have).
func (m *modelSubset) conforms(action string, body []byte) []string {
	out, ok := m.Operations[action]
	if !ok {
		return []string{fmt.Sprintf("%s: not in the model subset", action)}
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	var problems []string
	// Find the root element.
	var root xml.StartElement
	for {
		tok, err := dec.Token()
		if err != nil {
			return []string{fmt.Sprintf("%s: no root element: %v", action, err)}
		}
		if se, ok := tok.(xml.StartElement); ok {
			root = se
			break
		}
	}
	if root.Name.Local != action+"Response" || root.Name.Space != "http://ec2.amazonaws.com/doc/2016-11-15/" {
		problems = append(problems, fmt.Sprintf("%s: root is {%s}%s", action, root.Name.Space, root.Name.Local))
	}
	allowed := map[string]bool{}
	for _, x := range append(extraElements["*"], extraElements[action]...) {
		allowed[x] = true
	}
	var walk func(shape, path string, rootLevel bool) error
	walk = func(shape, path string, rootLevel bool) error {
		for {
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			switch el := tok.(type) {
			case xml.EndElement:
				return nil
			case xml.StartElement:
				name := el.Name.Local
				p := path + "/" + name
				sh := m.Shapes[shape]
				var child string
				switch {
				case sh.Type == "structure" && sh.Members[name] != "":
					child = sh.Members[name]
				case sh.Type == "list" && name == sh.MemberName:
					child = sh.Member
				case rootLevel && allowed[name]:
					child = "String"
				default:
					problems = append(problems, fmt.Sprintf("%s: element %s not in model shape %s", action, p, shape))
					if err := dec.Skip(); err != nil {
						return err
					}
					continue
				}
				if err := walk(child, p, false); err != nil {
					return err
				}
			case xml.CharData:
				if s := m.Shapes[shape]; (s.Type == "structure" || s.Type == "list") && len(bytes.TrimSpace(el)) > 0 {
					problems = append(problems, fmt.Sprintf("%s: text %q inside %s %s", action, el, s.Type, path))
				}
			}
		}
	}
	if out == "" {
		out = "<none>"
	}
	if err := walk(out, action+"Response", true); err != nil && !errors.Is(err, io.EOF) {
		problems = append(problems, fmt.Sprintf("%s: %v", action, err))
	}
	return problems
}

// checkRecorded checks every recorded response and reports per action how
// many were checked.
func checkRecorded(t *testing.T, m *modelSubset) map[string]int {
	t.Helper()
	recorded.Lock()
	defer recorded.Unlock()
	seen := map[string]int{}
	for action, bodies := range recorded.bodies {
		for _, b := range bodies {
			for _, p := range m.conforms(action, b) {
				t.Error(p)
			}
			seen[action]++
		}
	}
	return seen
}

// TestConformance makes every operation answer at least once (with the
// optional elements present), then checks every response any test recorded
// so far against botocore's EC2 model.
func TestConformance(t *testing.T) {
	m := loadSubset(t)
	e := newEnv(t, ec2sim.Options{})
	east, west := e.ec2("us-east-1"), e.ec2("us-west-2")
	src := e.add(ec2sim.Image{Region: "us-east-1", Name: "n", Description: "d", OwnerAlias: "amazon", ProductCodes: []string{"pc"}, LoadPermissions: []string{acctB}, Public: true,
		Tags: map[string]string{"k": "v"}})
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(east.CreateFpgaImage(ctx, &ec2.CreateFpgaImageInput{InputStorageLocation: &types.StorageLocation{Bucket: aws.String("b"), Key: aws.String("k")}}))
	must(west.CopyFpgaImage(ctx, copyInput(src.ID, "us-east-1", "")))
	must(west.CopyFpgaImage(ctx, copyInput("afi-0123456789abcdef0", "us-east-1", "")))
	must(east.DescribeFpgaImages(ctx, &ec2.DescribeFpgaImagesInput{MaxResults: aws.Int32(5)}))
	e.clock.Advance(time.Hour)
	must(west.DescribeFpgaImages(ctx, &ec2.DescribeFpgaImagesInput{}))
	must(east.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{src.ID}, Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}}))
	must(east.DescribeTags(ctx, &ec2.DescribeTagsInput{MaxResults: aws.Int32(5)}))
	must(east.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: []string{src.ID}, Tags: []types.Tag{{Key: aws.String("a")}}}))
	for _, a := range types.FpgaImageAttributeName("").Values() {
		must(east.DescribeFpgaImageAttribute(ctx, &ec2.DescribeFpgaImageAttributeInput{FpgaImageId: aws.String(src.ID), Attribute: a}))
	}
	must(east.ModifyFpgaImageAttribute(ctx, &ec2.ModifyFpgaImageAttributeInput{FpgaImageId: aws.String(src.ID), Attribute: types.FpgaImageAttributeNameLoadPermission, OperationType: types.OperationTypeAdd, UserIds: []string{acctC}}))
	must(east.ResetFpgaImageAttribute(ctx, &ec2.ResetFpgaImageAttributeInput{FpgaImageId: aws.String(src.ID)}))
	must(east.DeleteFpgaImage(ctx, &ec2.DeleteFpgaImageInput{FpgaImageId: aws.String(src.ID)}))
	must(east.DescribeRegions(ctx, &ec2.DescribeRegionsInput{}))

	seen := checkRecorded(t, m)
	for op := range m.Operations {
		if seen[op] == 0 {
			t.Errorf("no %s response was checked", op)
		}
	}
	var keys []string
	for k, n := range seen {
		keys = append(keys, fmt.Sprintf("%s=%d", k, n))
	}
	sort.Strings(keys)
	t.Logf("responses checked: %s", strings.Join(keys, " "))

	// A deliberately wrong document must be caught.
	if p := m.conforms("DescribeFpgaImages", []byte(`<DescribeFpgaImagesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><fpgaImageSet><item><tagSet/></item></fpgaImageSet></DescribeFpgaImagesResponse>`)); len(p) != 1 {
		t.Errorf("tagSet not caught: %v", p)
	}
}

// TestModelSubsetUpToDate regenerates the subset from botocore when python3
// and botocore are available and compares.
func TestModelSubsetUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("optional: python3 not found in PATH, so the model subset is not compared with botocore (README: Testing)")
	}
	if err := exec.Command("python3", "-c", "import botocore").Run(); err != nil {
		t.Skip("optional: python3 has no botocore (pip install botocore), so the model subset is not compared with it (README: Testing)")
	}
	tmp := filepath.Join(t.TempDir(), "subset.json")
	if out, err := exec.Command("go", "run", "./internal/modelgen", "-o", tmp).CombinedOutput(); err != nil {
		t.Fatalf("modelgen: %v\n%s", err, out)
	}
	want, _ := os.ReadFile(tmp)
	got, _ := os.ReadFile(filepath.Join("testdata", "ec2-model-subset.json"))
	if !bytes.Equal(got, want) {
		t.Error("testdata/ec2-model-subset.json is out of date with the installed botocore; run go generate ./ec2sim/")
	}
}

// TestMain checks, after all tests, every response any test recorded.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		b, err := os.ReadFile(filepath.Join("testdata", "ec2-model-subset.json"))
		if err == nil {
			var sub modelSubset
			if json.Unmarshal(b, &sub) == nil {
				recorded.Lock()
				for action, bodies := range recorded.bodies {
					for _, body := range bodies {
						for _, p := range sub.conforms(action, body) {
							fmt.Fprintln(os.Stderr, "conformance:", p)
							code = 1
						}
					}
				}
				recorded.Unlock()
			}
		}
	}
	os.Exit(code)
}
