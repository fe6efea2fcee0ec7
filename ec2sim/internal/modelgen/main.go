// Command modelgen extracts, from botocore's EC2 service model, the output
// shapes of the operations ec2sim implements, and writes them as a small JSON
// file that ec2sim's conformance test reads (testdata/ec2-model-subset.json).
//
// Usage (from the ec2sim directory, via go generate):
//
//	go run ./internal/modelgen [-model service-2.json.gz] [-o testdata/ec2-model-subset.json]
//
// Without -model it asks python3 where botocore is installed. The output only
// depends on the model, so running it twice gives the same bytes.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Operations lists the EC2 operations whose output shapes are extracted.
var Operations = []string{
	"CopyFpgaImage",
	"CreateFpgaImage",
	"CreateTags",
	"DeleteFpgaImage",
	"DeleteTags",
	"DescribeFpgaImageAttribute",
	"DescribeFpgaImages",
	"DescribeRegions",
	"DescribeTags",
	"ModifyFpgaImageAttribute",
	"ResetFpgaImageAttribute",
}

type model struct {
	Metadata   map[string]any `json:"metadata"`
	Operations map[string]struct {
		Output *struct {
			Shape string `json:"shape"`
		} `json:"output"`
	} `json:"operations"`
	Shapes map[string]struct {
		Type    string `json:"type"`
		Members map[string]struct {
			Shape        string `json:"shape"`
			LocationName string `json:"locationName"`
		} `json:"members"`
		Member *struct {
			Shape        string `json:"shape"`
			LocationName string `json:"locationName"`
		} `json:"member"`
	} `json:"shapes"`
}

// Subset is the file format: operation -> output shape, and the shapes
// reachable from them, keyed by shape name.
type Subset struct {
	Source     string            `json:"source"`
	Operations map[string]string `json:"operations"` // "" when the operation has no output shape
	Shapes     map[string]Shape  `json:"shapes"`
}

// Shape is one shape of the subset. For a structure, Members maps the XML
// element name (locationName, else the member name) to the member's shape; for
// a list, Member is the element shape and MemberName its XML element name.
type Shape struct {
	Type       string            `json:"type"`
	Members    map[string]string `json:"members,omitempty"`
	Member     string            `json:"member,omitempty"`
	MemberName string            `json:"memberName,omitempty"`
}

func main() {
	in := flag.String("model", "", "path to botocore data/ec2/2016-11-15/service-2.json(.gz); default: found with python3")
	out := flag.String("o", "testdata/ec2-model-subset.json", "output file")
	flag.Parse()
	if err := run(*in, *out); err != nil {
		fmt.Fprintln(os.Stderr, "modelgen:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	if in == "" {
		p, err := BotocoreModelPath()
		if err != nil {
			return err
		}
		in = p
	}
	raw, err := ReadModel(in)
	if err != nil {
		return err
	}
	b, err := Generate(raw)
	if err != nil {
		return err
	}
	return os.WriteFile(out, b, 0o644)
}

// BotocoreModelPath asks python3 where botocore's EC2 model is.
func BotocoreModelPath() (string, error) {
	o, err := exec.Command("python3", "-c", "import botocore,os;print(os.path.dirname(botocore.__file__))").Output()
	if err != nil {
		return "", fmt.Errorf("locating botocore with python3: %w", err)
	}
	return filepath.Join(strings.TrimSpace(string(o)), "data", "ec2", "2016-11-15", "service-2.json.gz"), nil
}

// ReadModel reads a model file, gunzipping it when its name ends in .gz.
func ReadModel(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		r = zr
	}
	return io.ReadAll(r)
}

// Generate returns the subset file for the raw model JSON.
func Generate(raw []byte) ([]byte, error) {
	var m model
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	s := Subset{
		Source:     fmt.Sprintf("botocore EC2 model %v (protocol %v), output shapes only; regenerate with go generate ./ec2sim/", m.Metadata["apiVersion"], m.Metadata["protocol"]),
		Operations: map[string]string{},
		Shapes:     map[string]Shape{},
	}
	var visit func(name string) error
	visit = func(name string) error {
		if _, done := s.Shapes[name]; done {
			return nil
		}
		sh, ok := m.Shapes[name]
		if !ok {
			return fmt.Errorf("shape %s missing from model", name)
		}
		o := Shape{Type: sh.Type}
		s.Shapes[name] = o
		switch sh.Type {
		case "structure":
			o.Members = map[string]string{}
			for mn, mem := range sh.Members {
				x := mn
				if mem.LocationName != "" {
					x = mem.LocationName
				}
				o.Members[x] = mem.Shape
				if err := visit(mem.Shape); err != nil {
					return err
				}
			}
		case "list":
			o.Member = sh.Member.Shape
			o.MemberName = "member"
			if sh.Member.LocationName != "" {
				o.MemberName = sh.Member.LocationName
			}
			if err := visit(sh.Member.Shape); err != nil {
				return err
			}
		}
		s.Shapes[name] = o
		return nil
	}
	for _, op := range Operations {
		o, ok := m.Operations[op]
		if !ok {
			return nil, fmt.Errorf("operation %s missing from model", op)
		}
		if o.Output == nil {
			s.Operations[op] = ""
			continue
		}
		s.Operations[op] = o.Output.Shape
		if err := visit(o.Output.Shape); err != nil {
			return nil, err
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
