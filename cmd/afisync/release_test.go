package main

// Tests of what ships afisync: the README's commands, .ci/run,
// .goreleaser.yaml, the Dockerfile and the GitHub Action (action.yml).

import (
	"bufio"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// repoRoot is the repository, seen from this package's directory.
const repoRoot = "../.."

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// codeBlocks returns the fenced code blocks of a Markdown document whose
// info string is lang, each as its logical lines: comments and blank lines
// dropped, backslash continuations joined.
func codeBlocks(md, lang string) [][]string {
	var blocks [][]string
	var cur []string
	in, cont := false, ""
	for _, line := range strings.Split(md, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case !in && trimmed == "```"+lang:
			in, cur = true, nil
		case in && trimmed == "```":
			in = false
			blocks = append(blocks, cur)
		case in:
			if strings.HasSuffix(trimmed, `\`) {
				cont += strings.TrimSuffix(trimmed, `\`) + " "
				continue
			}
			trimmed = strings.TrimSpace(cont + trimmed)
			cont = ""
			if trimmed != "" && !strings.HasPrefix(trimmed, "#") {
				cur = append(cur, trimmed)
			}
		}
	}
	return blocks
}

// shellWords splits a command line as a POSIX shell would for the simple
// lines in our docs: words separated by blanks, single and double quotes.
// It stops at a redirection, pipe or command list (>, |, &&, ;).
func shellWords(line string) []string {
	var words []string
	var w strings.Builder
	inWord := false
	var quote rune
	for _, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				w.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	for i, word := range words {
		if word == ">" || word == ">>" || word == "|" || word == "&&" || word == ";" {
			return words[:i]
		}
	}
	return words
}

// checkParses runs afisync's command tree on args plus --help: cobra parses
// every flag before it shows help, so an unknown command or flag fails.
func checkParses(t *testing.T, line string, args []string) {
	t.Helper()
	code, stdout, stderr := execAfisync(t, nil, append(slices.Clone(args), "--help")...)
	if code != exitOK || !strings.Contains(stdout, "Usage:") {
		t.Errorf("%q: afisync %s --help: exit %d\n%s%s", line, strings.Join(args, " "), code, stdout, stderr)
	}
}

// goTestCommand is the README's test command; .ci/run must run it.
const goTestCommand = "go test ./..."

func TestReadmeFreshCloneCommands(t *testing.T) {
	blocks := codeBlocks(readRepoFile(t, "README.md"), "sh")
	if len(blocks) == 0 {
		t.Fatal("README.md has no sh code block")
	}
	first := blocks[0]
	if len(first) != 2 {
		t.Fatalf("README's first code block = %q, want the two fresh-clone commands", first)
	}
	// 1: go run ./cmd/afisync ARGS, against the simulator, on a plan that exists.
	words := shellWords(first[0])
	args, ok := strings.CutPrefix(strings.Join(words, " "), "go run ./cmd/afisync ")
	if !ok {
		t.Fatalf("first command %q does not run ./cmd/afisync", first[0])
	}
	cmdArgs := strings.Fields(args)
	checkParses(t, first[0], cmdArgs)
	if !slices.Contains(cmdArgs, "--simulate") {
		t.Errorf("first command %q needs AWS: want --simulate on a fresh clone", first[0])
	}
	if i := slices.Index(cmdArgs, "--plan"); i < 0 || i+1 == len(cmdArgs) {
		t.Errorf("first command %q has no --plan", first[0])
	} else if _, err := os.Stat(filepath.Join(repoRoot, cmdArgs[i+1])); err != nil {
		t.Errorf("first command's plan: %v", err)
	}

	// 2: the test command, which must not need a C compiler (no -race).
	if first[1] != goTestCommand {
		t.Errorf("README's test command = %q, want %q", first[1], goTestCommand)
	}
}

// TestCIRunsReadmeTestCommand: .ci/run runs the README's test command, with
// flags added (-race among them), and nothing removed.
func TestCIRunsReadmeTestCommand(t *testing.T) {
	want := strings.Fields(goTestCommand)
	found := false
	for _, line := range strings.Split(readRepoFile(t, ".ci/run"), "\n") {
		words := shellWords(strings.TrimSpace(line))
		if len(words) < 2 || words[0] != "go" || words[1] != "test" {
			continue
		}
		var rest, flags []string
		for _, w := range words {
			if strings.HasPrefix(w, "-") {
				flags = append(flags, w)
			} else {
				rest = append(rest, w)
			}
		}
		if slices.Equal(rest, want) && slices.Contains(flags, "-race") {
			found = true
			t.Logf(".ci/run: %s", line)
		}
	}
	if !found {
		t.Errorf(".ci/run runs no %q with -race added", goTestCommand)
	}
}

// TestReadmeShellCommands checks every afisync command in the README's sh
// blocks: `go run ./cmd/afisync …`, `afisync …`, the arguments given to the
// container image, and the `go install` path.
func TestReadmeShellCommands(t *testing.T) {
	module := ""
	for _, line := range strings.Split(readRepoFile(t, "go.mod"), "\n") {
		if m, ok := strings.CutPrefix(line, "module "); ok {
			module = strings.TrimSpace(m)
		}
	}
	checked := map[string]int{}
	for _, block := range codeBlocks(readRepoFile(t, "README.md"), "sh") {
		for _, line := range block {
			words := shellWords(line)
			switch {
			case len(words) > 3 && words[0] == "go" && words[1] == "run" && words[2] == "./cmd/afisync":
				checkParses(t, line, words[3:])
				checked["go run"]++
			case len(words) > 1 && words[0] == "afisync":
				checkParses(t, line, words[1:])
				checked["afisync"]++
			case len(words) > 2 && words[0] == "docker" && words[1] == "run":
				i := slices.IndexFunc(words, func(w string) bool { return strings.HasPrefix(w, "ghcr.io/afisync/afisync:") })
				if i < 0 {
					t.Errorf("%q: no ghcr.io/afisync/afisync image", line)
					continue
				}
				checkParses(t, line, words[i+1:])
				checked["docker run"]++
			case len(words) == 3 && words[0] == "go" && words[1] == "install":
				if path, _, _ := strings.Cut(words[2], "@"); path != module+"/cmd/afisync" {
					t.Errorf("%q installs %s, want %s/cmd/afisync", line, path, module)
				}
				checked["go install"]++
			}
		}
	}
	t.Logf("commands checked: %v", checked)
	for _, kind := range []string{"go run", "afisync", "docker run", "go install"} {
		if checked[kind] == 0 {
			t.Errorf("no %q command found in the README's sh blocks: is the parser still right?", kind)
		}
	}
}

// goreleaserConfig is the part of .goreleaser.yaml the tests check.
type goreleaserConfig struct {
	Version     int    `yaml:"version"`
	ProjectName string `yaml:"project_name"`
	Before      struct {
		Hooks []string `yaml:"hooks"`
	} `yaml:"before"`
	Builds []struct {
		Main    string   `yaml:"main"`
		Binary  string   `yaml:"binary"`
		Env     []string `yaml:"env"`
		Flags   []string `yaml:"flags"`
		Ldflags []string `yaml:"ldflags"`
		Goos    []string `yaml:"goos"`
		Goarch  []string `yaml:"goarch"`
	} `yaml:"builds"`
	Archives []struct {
		Formats         []string `yaml:"formats"`
		FormatOverrides []struct {
			Goos    string   `yaml:"goos"`
			Formats []string `yaml:"formats"`
		} `yaml:"format_overrides"`
		NameTemplate string   `yaml:"name_template"`
		Files        []string `yaml:"files"`
	} `yaml:"archives"`
	Checksum struct {
		NameTemplate string `yaml:"name_template"`
		Algorithm    string `yaml:"algorithm"`
	} `yaml:"checksum"`
	SBOMs []struct {
		Artifacts string `yaml:"artifacts"`
	} `yaml:"sboms"`
}

func loadGoreleaser(t *testing.T) goreleaserConfig {
	t.Helper()
	var cfg goreleaserConfig
	dec := yaml.NewDecoder(strings.NewReader(readRepoFile(t, ".goreleaser.yaml")))
	if err := dec.Decode(&cfg); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	return cfg
}

// archiveName renders the goreleaser archive name template for a release.
func archiveName(t *testing.T, cfg goreleaserConfig, version, goos, goarch string) string {
	t.Helper()
	name := strings.NewReplacer(
		"{{ .ProjectName }}", cfg.ProjectName,
		"{{ .Version }}", version,
		"{{ .Os }}", goos,
		"{{ .Arch }}", goarch,
	).Replace(cfg.Archives[0].NameTemplate)
	if strings.Contains(name, "{{") {
		t.Fatalf("archive name template %q uses more than this test renders", cfg.Archives[0].NameTemplate)
	}
	ext := cfg.Archives[0].Formats[0]
	for _, o := range cfg.Archives[0].FormatOverrides {
		if o.Goos == goos {
			ext = o.Formats[0]
		}
	}
	return name + "." + ext
}

// TestGoreleaserConfig checks the release targets and build flags that
// `goreleaser check` cannot judge (and goreleaser is not installed in CI:
// a cold `go install` of it took over 9 minutes here).
func TestGoreleaserConfig(t *testing.T) {
	cfg := loadGoreleaser(t)
	if cfg.Version != 2 || cfg.ProjectName != "afisync" {
		t.Errorf("version %d, project_name %q; want 2, afisync", cfg.Version, cfg.ProjectName)
	}
	if len(cfg.Builds) != 1 {
		t.Fatalf("%d builds, want 1", len(cfg.Builds))
	}
	b := cfg.Builds[0]
	if b.Main != "./cmd/afisync" || b.Binary != "afisync" {
		t.Errorf("main %q binary %q", b.Main, b.Binary)
	}
	if !slices.Contains(b.Env, "CGO_ENABLED=0") {
		t.Errorf("env %q: want CGO_ENABLED=0 (static binaries)", b.Env)
	}
	if !slices.Contains(b.Flags, "-trimpath") {
		t.Errorf("flags %q: want -trimpath", b.Flags)
	}
	if ld := strings.Join(b.Ldflags, " "); !strings.Contains(ld, "-X main.version=v{{ .Version }}") {
		t.Errorf("ldflags %q: want -X main.version=v{{ .Version }}", ld)
	}
	if got := slices.Sorted(slices.Values(b.Goos)); !slices.Equal(got, []string{"darwin", "linux", "windows"}) {
		t.Errorf("goos %q", b.Goos)
	}
	if got := slices.Sorted(slices.Values(b.Goarch)); !slices.Equal(got, []string{"amd64", "arm64"}) {
		t.Errorf("goarch %q", b.Goarch)
	}
	if len(cfg.Archives) != 1 {
		t.Fatalf("%d archives, want 1", len(cfg.Archives))
	}
	for _, f := range []string{"LICENSE", "README.md", "CHANGELOG.md", "manpages/*.1", "completions/*"} {
		if !slices.Contains(cfg.Archives[0].Files, f) {
			t.Errorf("archives do not carry %s", f)
		}
	}
	if got := archiveName(t, cfg, "0.1.0", "windows", "arm64"); got != "afisync_0.1.0_windows_arm64.zip" {
		t.Errorf("windows archive %q", got)
	}
	if got := archiveName(t, cfg, "0.1.0", "linux", "amd64"); got != "afisync_0.1.0_linux_amd64.tar.gz" {
		t.Errorf("linux archive %q (the README and action.yml name it afisync_0.1.0_linux_amd64.tar.gz)", got)
	}
	if cfg.Checksum.NameTemplate != "checksums.txt" || cfg.Checksum.Algorithm != "sha256" {
		t.Errorf("checksum %+v; action.yml reads a sha256 checksums.txt", cfg.Checksum)
	}
	if len(cfg.SBOMs) != 1 || cfg.SBOMs[0].Artifacts != "archive" {
		t.Errorf("sboms %+v, want one per archive", cfg.SBOMs)
	}

	// The before hooks run afisync's own commands: they must exist.
	hooks := strings.Join(cfg.Before.Hooks, "\n")
	if !strings.Contains(hooks, `go run -ldflags "-X main.version=v{{ .Version }}" ./cmd/afisync man manpages`) {
		t.Errorf("no hook writes the man pages, with the release's version, into manpages/: %q", hooks)
	}
	m := regexp.MustCompile(`for sh in ([a-z ]+); do go run ./cmd/afisync completion "\$sh" > "completions/afisync.\$sh"`).FindStringSubmatch(hooks)
	if m == nil {
		t.Fatalf("no hook writes the completions into completions/: %q", hooks)
	}
	for _, sh := range strings.Fields(m[1]) {
		checkParses(t, "completion hook", []string{"completion", sh})
	}
	checkParses(t, "man hook", []string{"man", "manpages"})
}

// dockerfile is what the tests read from Dockerfile.
type dockerfile struct {
	goVersion string   // ARG GO_VERSION=
	froms     []string // FROM lines
	user      string   // USER of the final stage
	buildLine string   // the RUN … go build … line, without RUN
}

func parseDockerfile(t *testing.T) dockerfile {
	t.Helper()
	var d dockerfile
	sc := bufio.NewScanner(strings.NewReader(readRepoFile(t, "Dockerfile")))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "ARG GO_VERSION="):
			d.goVersion = strings.TrimPrefix(line, "ARG GO_VERSION=")
		case strings.HasPrefix(line, "FROM "):
			d.froms = append(d.froms, line)
			d.user = ""
		case strings.HasPrefix(line, "USER "):
			d.user = strings.TrimPrefix(line, "USER ")
		case strings.HasPrefix(line, "RUN ") && strings.Contains(line, " go build "):
			d.buildLine = strings.TrimPrefix(line, "RUN ")
		}
	}
	return d
}

// TestDockerfile checks the image's shape: Go as go.mod asks, a static
// build, a distroless non-root final stage; then (without -short) runs the
// Dockerfile's own build line and checks that it makes a static binary.
func TestDockerfile(t *testing.T) {
	d := parseDockerfile(t)
	goMod := readRepoFile(t, "go.mod")
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(goMod)
	if m == nil || d.goVersion != m[1] {
		t.Errorf("Dockerfile GO_VERSION %q, go.mod's go line %v: keep them in step", d.goVersion, m)
	}
	if len(d.froms) != 2 || !strings.Contains(d.froms[0], "golang:${GO_VERSION}") ||
		!strings.HasPrefix(d.froms[1], "FROM gcr.io/distroless/static") || !strings.HasSuffix(d.froms[1], ":nonroot") {
		t.Errorf("stages %q: want a golang build stage and a distroless static nonroot one", d.froms)
	}
	if !strings.HasPrefix(d.user, "nonroot") {
		t.Errorf("final stage runs as %q, want nonroot", d.user)
	}
	words := shellWords(d.buildLine)
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "./cmd/afisync"} {
		if !slices.Contains(words, want) {
			t.Errorf("build line %q lacks %s", d.buildLine, want)
		}
	}
	if testing.Short() {
		t.Skip("builds the Dockerfile's binary")
	}
	if runtime.GOOS != "linux" {
		t.Skip("checks an ELF binary")
	}
	t.Parallel() // a process test: runs alongside the others, after the in-process tests

	// Run the same line here: its variables as the Docker build sets them,
	// its output in a temporary directory.
	bin := filepath.Join(t.TempDir(), "afisync")
	vars := map[string]string{"TARGETOS": runtime.GOOS, "TARGETARCH": runtime.GOARCH, "VERSION": "v0.0.0-dockerfile-test"}
	var env, args []string
	for i, w := range words {
		w = os.Expand(w, func(k string) string { return vars[k] })
		switch {
		case len(args) == 0 && strings.Contains(w, "="):
			env = append(env, w)
		case i > 0 && words[i-1] == "-o":
			args = append(args, bin)
		default:
			args = append(args, w)
		}
	}
	if len(args) < 2 || args[0] != "go" || args[1] != "build" {
		t.Fatalf("build line %q is not VAR=… go build …", d.buildLine)
	}
	cmd := exec.Command("go", args[1:]...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(append(env, args...), " "), err, out)
	}
	if dyn := dynamicReasons(t, bin); len(dyn) > 0 {
		t.Errorf("the Dockerfile's binary is not static: %v", dyn)
	}
	out, err := exec.Command(bin, "--version").Output()
	if want := "afisync v0.0.0-dockerfile-test\n"; err != nil || string(out) != want {
		t.Errorf("--version = %q, %v; want %q", out, err, want)
	}
}

// dynamicReasons lists why the ELF binary at path would need a dynamic
// loader: an interpreter, or shared libraries. None: it is static.
func dynamicReasons(t *testing.T, path string) []string {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var why []string
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			why = append(why, "PT_INTERP")
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range libs {
		why = append(why, "needs "+l)
	}
	return why
}

// action is what the tests read from action.yml.
type action struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Inputs      map[string]struct {
		Description string `yaml:"description"`
		Required    bool   `yaml:"required"`
		Default     string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Description string `yaml:"description"`
		Value       string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Steps []struct {
			ID    string            `yaml:"id"`
			Shell string            `yaml:"shell"`
			Env   map[string]string `yaml:"env"`
			Run   string            `yaml:"run"`
		} `yaml:"steps"`
	} `yaml:"runs"`
}

func loadAction(t *testing.T) action {
	t.Helper()
	var a action
	if err := yaml.Unmarshal([]byte(readRepoFile(t, "action.yml")), &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return a
}

// step returns the run script of the step with id, and its env with the
// ${{ inputs.X }} expressions resolved from in.
func (a action) step(t *testing.T, id string, in map[string]string) (script string, env []string) {
	t.Helper()
	for _, s := range a.Runs.Steps {
		if s.ID != id {
			continue
		}
		for k, v := range s.Env {
			if name, ok := strings.CutPrefix(v, "${{ inputs."); ok {
				name = strings.TrimSuffix(name, " }}")
				val, given := in[name]
				if !given {
					val = a.Inputs[name].Default
				}
				v = val
			}
			env = append(env, k+"="+v)
		}
		return s.Run, env
	}
	t.Fatalf("action.yml has no step %q", id)
	return "", nil
}

func TestActionYAML(t *testing.T) {
	a := loadAction(t)
	if a.Name == "" || a.Description == "" || a.Runs.Using != "composite" {
		t.Errorf("name %q description %q using %q", a.Name, a.Description, a.Runs.Using)
	}
	docs := readRepoFile(t, "docs/unattended.md")
	wantInputs := map[string]string{"plan": "", "command": "diff", "args": "", "version": "latest", "report-format": "json"}
	for name, def := range wantInputs {
		in, ok := a.Inputs[name]
		if !ok {
			t.Errorf("no input %q", name)
			continue
		}
		if in.Description == "" || in.Default != def {
			t.Errorf("input %q: description %q, default %q (want %q)", name, in.Description, in.Default, def)
		}
		if !strings.Contains(docs, "| `"+name+"` |") {
			t.Errorf("docs/unattended.md does not document input %q", name)
		}
	}
	if !a.Inputs["plan"].Required {
		t.Error("input plan is not required")
	}
	if len(a.Inputs) != len(wantInputs) {
		t.Errorf("inputs %v: a new one needs this test and docs/unattended.md", slices.Sorted(maps.Keys(a.Inputs)))
	}
	for _, name := range []string{"exit-code", "report"} {
		out, ok := a.Outputs[name]
		if !ok || out.Description == "" || out.Value != "${{ steps.run.outputs."+name+" }}" {
			t.Errorf("output %q: %+v", name, out)
		}
		if !strings.Contains(docs, "| `"+name+"` |") {
			t.Errorf("docs/unattended.md does not document output %q", name)
		}
	}
	// Every input a step reads exists; scripts read inputs only through env
	// (never ${{ }} inside a script, which would let an input inject shell).
	ref := regexp.MustCompile(`\$\{\{ inputs\.([a-z-]+) \}\}`)
	for _, s := range a.Runs.Steps {
		if s.Shell != "bash" {
			t.Errorf("step %q: shell %q, want bash", s.ID, s.Shell)
		}
		if strings.Contains(s.Run, "${{") {
			t.Errorf("step %q: its script expands an expression; pass it through env", s.ID)
		}
		for _, v := range s.Env {
			for _, m := range ref.FindAllStringSubmatch(v, -1) {
				if _, ok := a.Inputs[m[1]]; !ok {
					t.Errorf("step %q reads undefined input %q", s.ID, m[1])
				}
			}
		}
	}
	if _, err := exec.LookPath("bash"); err == nil {
		for _, s := range a.Runs.Steps {
			if out, err := exec.Command("bash", "-n", "-c", s.Run).CombinedOutput(); err != nil {
				t.Errorf("step %q: bash -n: %v\n%s", s.ID, err, out)
			}
		}
	}
}

// actionRunner runs steps of action.yml with bash as the Actions runner
// does (errexit and pipefail on), with its files in a fresh directory.
type actionRunner struct {
	temp, output, path, summary string
}

func newActionRunner(t *testing.T) *actionRunner {
	t.Helper()
	if testing.Short() {
		t.Skip("runs action.yml's scripts with bash")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	dir := t.TempDir()
	r := &actionRunner{temp: filepath.Join(dir, "temp"), output: filepath.Join(dir, "output"),
		path: filepath.Join(dir, "path"), summary: filepath.Join(dir, "summary.md")}
	if err := os.Mkdir(r.temp, 0o755); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *actionRunner) run(t *testing.T, script string, env []string, pathPrefix string) (code int, out string, outputs map[string]string) {
	t.Helper()
	os.Remove(r.output)
	// The runner's bash: bash --noprofile --norc -eo pipefail {0}.
	cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env,
		"RUNNER_TEMP="+r.temp, "GITHUB_OUTPUT="+r.output, "GITHUB_PATH="+r.path,
		"GITHUB_STEP_SUMMARY="+r.summary, "GITHUB_ACTIONS=true",
		"RUNNER_OS=Linux", "RUNNER_ARCH=X64",
		"PATH="+pathPrefix+string(os.PathListSeparator)+os.Getenv("PATH"),
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE="+filepath.Join(r.temp, "none"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(r.temp, "none"), "AWS_PROFILE=", "AFISYNC_NOTIFY=")
	b, err := cmd.CombinedOutput()
	code = 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatal(err)
		}
		code = ee.ExitCode()
	}
	outputs = map[string]string{}
	if o, err := os.ReadFile(r.output); err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(o)), "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				outputs[k] = v
			}
		}
	}
	return code, string(b), outputs
}

// TestActionRunStep runs action.yml's run step with a freshly built afisync
// (builtAfisync's) against the simulator: outputs, the report file, the
// step summary, and how each exit status ends the step.
func TestActionRunStep(t *testing.T) {
	r := newActionRunner(t)
	t.Parallel() // a process test: runs alongside the others, after the in-process tests
	bindir := filepath.Dir(builtAfisync(t))
	a := loadAction(t)
	tests := []struct {
		name       string
		in         map[string]string
		wantStep   int    // the step's exit status
		wantCode   string // outputs.exit-code
		wantReport string // outputs.report's file name
		wantOut    string // in the step's log
	}{
		{"diff with changes pending is not a failure",
			map[string]string{"plan": "plans/example.yaml", "args": "--simulate --detailed-exitcode --no-progress"},
			0, "2", "afisync-report.json", "::notice title=afisync::changes are pending"},
		{"diff, markdown report",
			map[string]string{"plan": "plans/example.yaml", "args": "--simulate --no-progress", "report-format": "markdown"},
			0, "0", "afisync-report.md", ""},
		// A run that cannot start still writes its report, with an error.
		{"invalid plan fails the step",
			map[string]string{"plan": "plans/no-such-plan.yaml"},
			3, "3", "afisync-report.json", "no-such-plan.yaml"},
		{"unknown command",
			map[string]string{"plan": "plans/example.yaml", "command": "prune"},
			3, "", "", "::error title=afisync::command must be diff or sync"},
		{"unknown report format",
			map[string]string{"plan": "plans/example.yaml", "report-format": "yaml"},
			3, "", "", "::error title=afisync::report-format must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(r.summary)
			script, env := a.step(t, "run", tt.in)
			code, out, outputs := r.run(t, script, env, bindir)
			if code != tt.wantStep {
				t.Errorf("step exit %d, want %d; log:\n%s", code, tt.wantStep, out)
			}
			if outputs["exit-code"] != tt.wantCode {
				t.Errorf("exit-code output %q, want %q", outputs["exit-code"], tt.wantCode)
			}
			// RUNNER_TEMP/afisync-XXXXXX/afisync-report.EXT
			wantReport := outputs["report"]
			if dir, base := filepath.Split(wantReport); base != tt.wantReport ||
				(wantReport != "" && !strings.HasPrefix(dir, filepath.Join(r.temp, "afisync-"))) {
				t.Errorf("report output %q, want %s in a directory of %s", wantReport, tt.wantReport, r.temp)
			}
			if !strings.Contains(out, tt.wantOut) {
				t.Errorf("log lacks %q:\n%s", tt.wantOut, out)
			}
			if wantReport == "" {
				return
			}
			rep, err := os.ReadFile(wantReport)
			if err != nil {
				t.Fatal(err)
			}
			wantPlan := "fpga-fleet"
			if tt.wantStep == 3 {
				wantPlan = "" // the plan was never read
			}
			if strings.HasSuffix(wantReport, ".json") {
				var doc struct{ Plan, Error string }
				if err := json.Unmarshal(rep, &doc); err != nil || doc.Plan != wantPlan || (wantPlan == "") != (doc.Error != "") {
					t.Errorf("report %s: %v, plan %q, error %q", wantReport, err, doc.Plan, doc.Error)
				}
			}
			summary, err := os.ReadFile(r.summary)
			if err != nil || !strings.Contains(string(summary), wantPlan) {
				t.Errorf("step summary: %v\n%s", err, summary)
			}
		})
	}
}

// TestActionInstallStep runs action.yml's install step against a fake
// release (a curl that serves files from a directory), named as
// .goreleaser.yaml names its archives.
func TestActionInstallStep(t *testing.T) {
	r := newActionRunner(t)
	cfg := loadGoreleaser(t)
	release := t.TempDir()
	archive := archiveName(t, cfg, "0.1.0", "linux", "amd64")

	// The archive holds a stand-in afisync that answers --version.
	stage := t.TempDir()
	stub := "#!/bin/sh\necho afisync v0.1.0\n"
	if err := os.WriteFile(filepath.Join(stage, "afisync"), []byte(stub), 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("tar", "-czf", filepath.Join(release, archive), "-C", stage, "afisync").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(release, archive))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	writeSums := func(hexsum string) {
		// goreleaser's format: "<sha256>  <name>", one archive a line.
		sums := fmt.Sprintf("%s  %s\n%s  afisync_0.1.0_darwin_arm64.tar.gz\n", hexsum, archive, strings.Repeat("0", 64))
		if err := os.WriteFile(filepath.Join(release, "checksums.txt"), []byte(sums), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// A curl that knows two requests: the latest release's redirect, and
	// -O downloads from the fake release.
	fakebin := t.TempDir()
	curl := `#!/bin/bash
url="${@: -1}"
case " $* " in
*" -w "*) echo "https://github.com/afisync/afisync/releases/tag/v0.1.0" ;;
*) f="` + release + `/${url##*/}"; [ -f "$f" ] || { echo "curl: (22) 404 $url" >&2; exit 22; }; cp "$f" . ;;
esac
echo "$url" >> "` + filepath.Join(fakebin, "requests") + `"
`
	if err := os.WriteFile(filepath.Join(fakebin, "curl"), []byte(curl), 0o755); err != nil {
		t.Fatal(err)
	}

	a := loadAction(t)
	for _, tt := range []struct {
		name, version, checksum string
		wantCode                int
	}{
		{"latest", "latest", hex.EncodeToString(sum[:]), 0},
		{"a tag", "v0.1.0", hex.EncodeToString(sum[:]), 0},
		{"a wrong checksum", "v0.1.0", strings.Repeat("1", 64), 1},
		{"a missing release", "v9.9.9", hex.EncodeToString(sum[:]), 22},
	} {
		t.Run(tt.name, func(t *testing.T) {
			writeSums(tt.checksum)
			os.Remove(r.path)
			os.RemoveAll(filepath.Join(r.temp, "afisync-bin"))
			script, env := a.step(t, "install", map[string]string{"version": tt.version})
			code, out, _ := r.run(t, script, env, fakebin)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; log:\n%s", code, tt.wantCode, out)
			}
			if code != 0 {
				return
			}
			if !strings.Contains(out, "afisync v0.1.0") {
				t.Errorf("log lacks the installed version:\n%s", out)
			}
			path, _ := os.ReadFile(r.path)
			if bindir := filepath.Join(r.temp, "afisync-bin"); strings.TrimSpace(string(path)) != bindir {
				t.Errorf("GITHUB_PATH = %q, want %q", path, bindir)
			}
		})
	}
	reqs, _ := os.ReadFile(filepath.Join(fakebin, "requests"))
	if !strings.Contains(string(reqs), "https://github.com/afisync/afisync/releases/download/v0.1.0/"+archive) {
		t.Errorf("no download of %s; requests:\n%s", archive, reqs)
	}
}
