package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/afisync/afisync/ec2sim"
)

// simOutput collects what afisync sim writes and announces the endpoint.
type simOutput struct {
	mu       sync.Mutex
	buf      bytes.Buffer
	endpoint chan string
	sent     bool
}

func (o *simOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(p)
	if !o.sent {
		for _, line := range strings.Split(o.buf.String(), "\n") {
			if v, ok := strings.CutPrefix(line, "export AWS_ENDPOINT_URL="); ok {
				o.sent = true
				o.endpoint <- v
				break
			}
		}
	}
	return len(p), nil
}

func (o *simOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// startSim runs `afisync sim args…` in a goroutine and returns its endpoint
// and a stop function that interrupts it and returns its exit code.
func startSim(t *testing.T, args ...string) (endpoint string, out *simOutput, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out = &simOutput{endpoint: make(chan string, 1)}
	errOut := &simOutput{endpoint: make(chan string, 1)}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"sim", "--listen", "127.0.0.1:0"}, args...), strings.NewReader(""), out, errOut)
	}()
	select {
	case endpoint = <-out.endpoint:
	case code := <-done:
		cancel()
		t.Fatalf("afisync sim exited with %d: %s%s", code, out, errOut)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("afisync sim printed no endpoint")
	}
	stopped := false
	stop = func() int {
		if stopped {
			return 0
		}
		stopped = true
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(10 * time.Second):
			t.Fatal("afisync sim did not stop")
			return -1
		}
	}
	t.Cleanup(func() { stop() })
	return endpoint, out, stop
}

// awsJob is one aws CLI invocation of an awsBatch, and its result.
type awsJob struct {
	region string
	args   []string
	env    []string // added to the clean environment (and winning over it)
	code   int
	out    []byte
	errOut string
}

// awsBatch runs the aws CLI for every job, in order, each with a clean
// environment, and fills in the results. Starting the aws CLI costs about
// half a second of CPU in Python imports, so the jobs share one aws
// process: a plugin (awsBatchPlugin) runs each job in it through the aws
// CLI's own entry point, a fresh awscli.clidriver per job, as the aws
// command does (the parsed service models are shared). An aws CLI that
// does not run the plugin runs each job as a process of its own, in order,
// without the plugin's config file.
func awsBatch(t *testing.T, endpoint string, jobs ...*awsJob) {
	t.Helper()
	dir := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "PYTHONPATH=") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY=secret",
		"AWS_CONFIG_FILE="+filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
		"AWS_RETRY_MODE=standard",
		"AWS_MAX_ATTEMPTS=1",
	)
	argv := func(j *awsJob) []string {
		return append([]string{"--endpoint-url", endpoint, "--region", j.region, "--output", "json"}, j.args...)
	}
	// Jobs with an environment of their own (a session's keys) run as
	// processes of their own.
	perJobEnv := slices.ContainsFunc(jobs, func(j *awsJob) bool { return len(j.env) > 0 })
	if !perJobEnv && awsBatchInOneProcess(t, dir, env, jobs, argv) {
		return
	}
	for _, j := range jobs {
		cmd := exec.Command("aws", argv(j)...)
		cmd.Env = append(append(slices.Clip(env), "AWS_DEFAULT_REGION="+j.region), j.env...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			j.code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("aws %v: %v", j.args, err)
		}
		j.out, j.errOut = stdout.Bytes(), stderr.String()
	}
}

// awsBatchPlugin is an aws CLI (v1) plugin: named in the config file's
// [plugins] section and found on PYTHONPATH, it is initialised by the aws
// process before that parses its own arguments. With AFISYNC_AWS_BATCH set
// to a file of jobs, it runs each job as the aws command would
// (awscli.clidriver's create_clidriver().main(args), AWS_DEFAULT_REGION
// set as for a process of its own; the jobs' sessions share one botocore
// data loader, so the service models' JSON is parsed once), writes each
// job's exit code, stdout and stderr to the file's name plus ".out", and
// ends the process. The drivers it creates load the plugin again, which
// then does nothing.
const awsBatchPlugin = `import contextlib, io, json, os, sys


def awscli_initialize(cli):
    jobs_file = os.environ.pop("AFISYNC_AWS_BATCH", None)
    if not jobs_file:
        return
    import botocore.session
    from awscli.clidriver import create_clidriver

    # One data loader for every job's session: the parsed service models
    # (read-only JSON) are loaded once, not once a job.
    loaders = {}
    new_loader = botocore.session.create_loader

    def shared_loader(search_path=None):
        if search_path not in loaders:
            loaders[search_path] = new_loader(search_path)
        return loaders[search_path]

    botocore.session.create_loader = shared_loader
    with open(jobs_file) as f:
        jobs = json.load(f)
    base = dict(os.environ)
    results = []
    for job in jobs:
        os.environ.clear()
        os.environ.update(base)
        os.environ["AWS_DEFAULT_REGION"] = job["region"]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = create_clidriver().main(job["args"])
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else 1
        results.append({"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()})
    with open(jobs_file + ".out", "w") as f:
        json.dump(results, f)
    os._exit(0)
`

// awsBatchInOneProcess runs jobs in one aws process through awsBatchPlugin
// and fills in their results; false if this aws CLI did not run the plugin.
func awsBatchInOneProcess(t *testing.T, dir string, env []string, jobs []*awsJob, argv func(*awsJob) []string) bool {
	t.Helper()
	type job struct {
		Region string   `json:"region"`
		Args   []string `json:"args"`
	}
	var in []job
	for _, j := range jobs {
		in = append(in, job{j.region, argv(j)})
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	jobsFile := filepath.Join(dir, "jobs.json")
	for name, body := range map[string]string{
		"jobs.json":           string(b),
		"afisync_awsbatch.py": awsBatchPlugin,
		"batch.config":        "[plugins]\nafisync_awsbatch = afisync_awsbatch\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("aws", "--version")
	// The last AWS_CONFIG_FILE in Env wins: the batch's own config file.
	cmd.Env = append(slices.Clip(env), "AWS_CONFIG_FILE="+filepath.Join(dir, "batch.config"), "AFISYNC_AWS_BATCH="+jobsFile, "PYTHONPATH="+dir)
	out, err := cmd.CombinedOutput()
	res, readErr := os.ReadFile(jobsFile + ".out")
	if readErr != nil {
		t.Logf("the aws CLI did not run the batch plugin (%v; aws --version: %v, %s): one process per call", readErr, err, bytes.TrimSpace(out))
		return false
	}
	if err != nil {
		t.Fatalf("aws, running %d calls: %v\n%s", len(jobs), err, out)
	}
	var results []struct {
		Code           int
		Stdout, Stderr string
	}
	if err := json.Unmarshal(res, &results); err != nil || len(results) != len(jobs) {
		t.Fatalf("aws batch results: %v, %d for %d calls:\n%s", err, len(results), len(jobs), res)
	}
	for i, j := range jobs {
		j.code, j.out, j.errOut = results[i].Code, []byte(results[i].Stdout), results[i].Stderr
	}
	return true
}

// decoded requires that j succeeded and decodes its JSON output.
func (j *awsJob) decoded(t *testing.T) map[string]any {
	t.Helper()
	if j.code != 0 {
		t.Fatalf("aws %s: exit %d: %s", strings.Join(j.args, " "), j.code, j.errOut)
	}
	m := map[string]any{}
	if len(bytes.TrimSpace(j.out)) > 0 {
		if err := json.Unmarshal(j.out, &m); err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(j.args, " "), err, j.out)
		}
	}
	return m
}

// describeJob is a describe-fpga-images of one AFI.
func describeJob(region, id string) *awsJob {
	return &awsJob{region: region, args: []string{"ec2", "describe-fpga-images", "--fpga-image-ids", id}}
}

// one returns the single FpgaImages entry a describeJob found.
func (j *awsJob) one(t *testing.T) map[string]any {
	t.Helper()
	out := j.decoded(t)
	imgs, _ := out["FpgaImages"].([]any)
	if len(imgs) != 1 {
		t.Fatalf("%s: %v", strings.Join(j.args, " "), out)
	}
	return imgs[0].(map[string]any)
}

// describeOne returns the single FpgaImages entry for id.
func describeOne(t *testing.T, endpoint, region, id string) map[string]any {
	t.Helper()
	j := describeJob(region, id)
	awsBatch(t, endpoint, j)
	return j.one(t)
}

func keysOf(m map[string]any) []string {
	var k []string
	for key := range m {
		k = append(k, key)
	}
	sort.Strings(k)
	return k
}

func advance(t *testing.T, endpoint string, d time.Duration) {
	t.Helper()
	resp, err := http.Post(endpoint+"/_sim/clock/advance?by="+d.String(), "", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("advance: %v %v", err, resp)
	}
	resp.Body.Close()
}

func needAWSCLI(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("optional: aws CLI not found in PATH, so the aws CLI is not tested against afisync sim (README: Testing)")
		}
		t.Fatal("aws CLI not installed, and CI is set: CI must install it")
	}
}

const seedYAML = `# AFIs of AWS's copy_fpga_image example
images:
  - id: afi-01a7ea9bafe3ef8cc
    agfi: agfi-088bffb3ab91ca2d1
    region: us-east-1
    name: hello_world_1.3.0
    description: Hello World AFI
    create_time: 2017-07-26T18:42:42Z
  - id: afi-0f0e0d0c0b0a09080
    account: "095707098027"
    owner_alias: amazon
    public: true
    region: us-east-1
    name: amazon-owned
`

// TestSimAssumeRoleWithAWSCLI assumes roles with the aws CLI: granted (the
// right external ID), refused (--deny ACCOUNT, a wrong or missing external
// ID, as AccessDenied), and then uses the session's keys to act as the
// role's account.
func TestSimAssumeRoleWithAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the aws CLI 5 times")
	}
	needAWSCLI(t)
	const role = "arn:aws:iam::444455556666:role/ci/afisync"
	seed := filepath.Join(t.TempDir(), "seed.yaml")
	os.WriteFile(seed, []byte("images:\n  - {id: afi-0444455556666aaaa, region: us-east-1, account: \"444455556666\", name: prod-shell}\n"), 0o644)
	ep, _, stop := startSim(t, "--seed", seed, "--deny", "999999999999", "--role-external-id", role+"=fleet=7f3a")
	defer stop()
	assume := func(arn string, extra ...string) *awsJob {
		return &awsJob{region: "us-east-1", args: append([]string{"sts", "assume-role", "--role-arn", arn, "--role-session-name", "afisync-fleet"}, extra...)}
	}
	ok, wrong, missing, denied := assume(role, "--external-id", "fleet=7f3a"), assume(role, "--external-id", "fleet"), assume(role),
		assume("arn:aws:iam::999999999999:role/afisync")
	awsBatch(t, ep, ok, wrong, missing, denied)
	for _, j := range []*awsJob{wrong, missing, denied} {
		if j.code == 0 || !strings.Contains(j.errOut, "(AccessDenied) when calling the AssumeRole operation") ||
			!strings.Contains(j.errOut, "User: arn:aws:iam::111122223333:user/ec2sim is not authorized to perform: sts:AssumeRole on resource: "+j.args[3]+"\n") {
			t.Errorf("aws %s: exit %d, %s", strings.Join(j.args, " "), j.code, j.errOut)
		}
	}
	out := ok.decoded(t)
	creds, _ := out["Credentials"].(map[string]any)
	user, _ := out["AssumedRoleUser"].(map[string]any)
	if user["Arn"] != "arn:aws:sts::444455556666:assumed-role/afisync/afisync-fleet" || creds["Expiration"] == nil {
		t.Fatalf("assume-role: %v", out)
	}
	session := []string{"AWS_ACCESS_KEY_ID=" + creds["AccessKeyId"].(string), "AWS_SECRET_ACCESS_KEY=" + creds["SecretAccessKey"].(string),
		"AWS_SESSION_TOKEN=" + creds["SessionToken"].(string)}
	describe := &awsJob{region: "us-east-1", env: session, args: []string{"ec2", "describe-fpga-images", "--owners", "self"}}
	awsBatch(t, ep, describe)
	if id := describe.one(t)["FpgaImageId"]; id != "afi-0444455556666aaaa" {
		t.Errorf("the session sees %v, want the role account's AFI", id)
	}
}

// TestSimWithAWSCLI reproduces the examples of AWS's copy_fpga_image
// documentation with the real aws CLI against afisync sim. The 21 calls run
// in four aws processes (awsBatch), one per round: each round's calls run
// in order, after the previous round's results are checked.
func TestSimWithAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the aws CLI 21 times")
	}
	needAWSCLI(t)
	t.Parallel() // a process test: runs alongside the others, after the in-process tests
	dir := t.TempDir()
	seed := filepath.Join(dir, "seed.yaml")
	state := filepath.Join(dir, "state.json")
	if err := os.WriteFile(seed, []byte(seedYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	ep, out, stop := startSim(t, "--seed", seed, "--state", state, "--copy-time", "1h", "--build-time", "3h")
	if !strings.Contains(out.String(), "seed: 2 AFIs loaded") {
		t.Errorf("startup output:\n%s", out)
	}
	const src = "afi-01a7ea9bafe3ef8cc"
	copyJob := func(region, source string) *awsJob {
		return &awsJob{region: region, args: []string{"ec2", "copy-fpga-image", "--source-region", "us-east-1", "--source-fpga-image-id", source}}
	}

	// Round 1: a same-Region copy, a cross-Region copy, a copy that will
	// fail (a source not owned by the caller) and a fresh build.
	sameJob, crossJob, notOwnedJob := copyJob("us-east-1", src), copyJob("us-west-2", src), copyJob("us-west-2", "afi-0f0e0d0c0b0a09080")
	buildJob := &awsJob{region: "us-east-1", args: []string{"ec2", "create-fpga-image", "--name", "cl_new", "--input-storage-location", "Bucket=b,Key=dcp.tar",
		"--tag-specifications", "ResourceType=fpga-image,Tags=[{Key=team,Value=fpga}]"}}
	awsBatch(t, ep, sameJob, crossJob, notOwnedJob, buildJob)
	same := sameJob.decoded(t)
	sameID, _ := same["FpgaImageId"].(string)
	if !ec2sim.ValidAFIID(sameID) || sameID == src {
		t.Fatalf("copy-fpga-image: %v", same)
	}
	cross := crossJob.decoded(t)["FpgaImageId"].(string)
	notOwned := notOwnedJob.decoded(t)["FpgaImageId"].(string)
	built := buildJob.decoded(t)
	if g, _ := built["FpgaImageGlobalId"].(string); !strings.HasPrefix(g, "agfi-") {
		t.Errorf("create-fpga-image: %v", built)
	}

	// Round 2: the cross-Region copy is pending, with exactly the fields
	// of AWS's example; a copy of the build, still pending, will fail.
	pendingJob, badStateJob := describeJob("us-west-2", cross), copyJob("us-west-2", built["FpgaImageId"].(string))
	awsBatch(t, ep, pendingJob, badStateJob)
	pending := pendingJob.one(t)
	wantPending := []string{"CreateTime", "Description", "FpgaImageId", "Name", "OwnerId", "State", "UpdateTime"}
	if got := keysOf(pending); !slices.Equal(got, wantPending) {
		t.Errorf("pending copy fields = %v, want %v (%v)", got, wantPending, pending)
	}
	if st := pending["State"].(map[string]any); st["Code"] != "pending" || pending["Name"] != "hello_world_1.3.0" || pending["Description"] != "Hello World AFI" {
		t.Errorf("pending copy: %v", pending)
	}
	badState := badStateJob.decoded(t)["FpgaImageId"].(string)

	advance(t, ep, time.Hour)

	// Round 3, in this order: every copy has settled; tag the cross-Region
	// one; an FPGA call outside the FPGA Regions; STS; then the tag filter,
	// delete, describe after delete.
	availJob, sameDescJob, notOwnedDescJob, badStateDescJob := describeJob("us-west-2", cross), describeJob("us-east-1", sameID), describeJob("us-west-2", notOwned), describeJob("us-west-2", badState)
	tagJob := &awsJob{region: "us-west-2", args: []string{"ec2", "create-tags", "--resources", cross, "--tags", "Key=afisync:plan,Value=fleet"}}
	outsideJob := &awsJob{region: "us-east-2", args: []string{"ec2", "describe-fpga-images"}}
	whoJob := &awsJob{region: "us-east-1", args: []string{"sts", "get-caller-identity"}}
	byTagJob := &awsJob{region: "us-west-2", args: []string{"ec2", "describe-fpga-images", "--owners", "self", "--filters", "Name=tag:afisync:plan,Values=fleet"}}
	delJob := &awsJob{region: "us-west-2", args: []string{"ec2", "delete-fpga-image", "--fpga-image-id", cross}}
	goneJob := describeJob("us-west-2", cross)
	awsBatch(t, ep, availJob, sameDescJob, notOwnedDescJob, badStateDescJob, tagJob, outsideJob, whoJob, byTagJob, delJob, goneJob)
	avail := availJob.one(t)
	if avail["State"].(map[string]any)["Code"] != "available" || avail["FpgaImageGlobalId"] != "agfi-088bffb3ab91ca2d1" {
		t.Errorf("cross-region copy after copy time: %v", avail)
	}
	for _, k := range []string{"PciId", "ShellVersion", "FpgaImageGlobalId"} {
		if _, ok := avail[k]; !ok {
			t.Errorf("available copy lacks %s: %v", k, avail)
		}
	}
	if s := sameDescJob.one(t); s["FpgaImageGlobalId"] != "agfi-088bffb3ab91ca2d1" || s["Name"] != "hello_world_1.3.0" {
		t.Errorf("same-region copy: %v", s)
	}
	for _, tc := range []struct {
		j   *awsJob
		msg string
	}{
		{notOwnedDescJob, "NOT_FOUND: Source image is not found or the user ID is not authorized to copy source image."},
		{badStateDescJob, "INVALID_STATE: Source image is not in a suitable state to allow copying."},
	} {
		f := tc.j.one(t)
		if got, want := keysOf(f), []string{"CreateTime", "FpgaImageId", "OwnerId", "State", "UpdateTime"}; !slices.Equal(got, want) {
			t.Errorf("failed copy fields = %v, want %v", got, want)
		}
		st := f["State"].(map[string]any)
		if st["Code"] != "failed" || st["Message"] != tc.msg {
			t.Errorf("failed copy state = %v, want %q", st, tc.msg)
		}
	}
	tagJob.decoded(t)
	if outsideJob.code == 0 || !strings.Contains(outsideJob.errOut, "InvalidAction") {
		t.Errorf("FPGA call in us-east-2: exit %d, %s", outsideJob.code, outsideJob.errOut)
	}
	if who := whoJob.decoded(t); who["Account"] != ec2sim.DefaultAccount {
		t.Errorf("sts get-caller-identity: %v", who)
	}

	byTag := byTagJob.decoded(t)
	if imgs := byTag["FpgaImages"].([]any); len(imgs) != 1 || imgs[0].(map[string]any)["FpgaImageId"] != cross {
		t.Errorf("tag filter: %v", byTag)
	} else if tags := imgs[0].(map[string]any)["Tags"].([]any); len(tags) != 1 {
		t.Errorf("tags: %v", tags)
	}
	if del := delJob.decoded(t); del["Return"] != true {
		t.Errorf("delete-fpga-image: %v", del)
	}
	if code, errOut := goneJob.code, goneJob.errOut; code == 0 || !strings.Contains(errOut, "InvalidFpgaImageID.NotFound") || !strings.Contains(errOut, "Image ID '"+cross+"' not found.") {
		t.Errorf("describe after delete: exit %d, %s", code, errOut)
	}

	// Stats over HTTP.
	resp, err := http.Get(ep + "/_sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	var st ec2sim.Stats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if st.Count("CopyFpgaImage", "us-west-2", "ok") != 3 || st.Count("CopyFpgaImage", "us-east-1", "ok") != 1 || st.Count("DescribeFpgaImages", "us-west-2", "InvalidFpgaImageID.NotFound") != 1 {
		t.Errorf("stats: %+v", st)
	}

	// Round 4: the state survives a restart.
	if code := stop(); code != 0 {
		t.Fatalf("sim exited %d", code)
	}
	ep2, out2, _ := startSim(t, "--state", state, "--seed", seed)
	if !strings.Contains(out2.String(), "state: 6 AFIs loaded") {
		t.Errorf("restart output:\n%s", out2)
	}
	if f := describeOne(t, ep2, "us-west-2", notOwned); f["State"].(map[string]any)["Code"] != "failed" {
		t.Errorf("after restart: %v", f)
	}
}

// TestSimBackgroundExample runs the help's example of a simulator in the
// background through bash, as documented but for the env file's path and a
// free port, with the aws CLI: it must finish (the old example, eval of a
// command substitution around a background job, never did), reach the
// simulator, and leave no env file behind.
func TestSimBackgroundExample(t *testing.T) {
	if testing.Short() {
		t.Skip("runs bash, the aws CLI and afisync sim as processes")
	}
	needAWSCLI(t)
	t.Parallel() // a process test: runs alongside the others, after the in-process tests
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("optional: bash not found in PATH, so afisync sim --help's background example is not run (README: Testing)")
	}
	dir := t.TempDir()
	// afisync on PATH is this test binary running main().
	wrapper := "#!/bin/sh\nAFISYNC_TEST_HELPER=1 exec " + shellQuote(os.Args[0]) + " -test.run='^TestHelperAfisync$' -- \"$@\"\n"
	if err := os.WriteFile(filepath.Join(dir, "afisync"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	envFile := filepath.Join(dir, "ec2sim.env")
	example := strings.NewReplacer(
		"/tmp/ec2sim.env", shellQuote(envFile),
		"afisync sim ", "afisync sim --listen 127.0.0.1:0 ",
	).Replace(simBackgroundExample)
	// Then say which endpoint the shell got and wait for the simulator to
	// stop (kill %1 sends SIGTERM).
	script := "set -e\n" + example + "\nwait || true\necho \"endpoint=$AWS_ENDPOINT_URL\"\n"

	ctx, cancel := context.WithTimeout(context.Background(), hangBound)
	defer cancel()
	cmd := exec.CommandContext(ctx, bash, "-c", script)
	cmd.Dir = dir
	// Its own process group, so that a hang kills the background job too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env,
		"PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"),
		"AWS_CONFIG_FILE="+filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
	)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("the example did not finish within %s (a hang detector, not a timing assertion):\n%s\n%s", hangBound, script, out)
	}
	if err != nil {
		t.Fatalf("the example failed: %v\n%s\n%s", err, script, out)
	}
	text := string(out)
	m := regexp.MustCompile(`endpoint=(http://127\.0\.0\.1:[0-9]+)\n`).FindStringSubmatch(text)
	if m == nil || !strings.Contains(text, "ec2sim listening on "+m[1]) {
		t.Errorf("the shell did not get the simulator's endpoint:\n%s", text)
	}
	if !strings.Contains(text, `"FpgaImages": []`) {
		t.Errorf("aws ec2 describe-fpga-images did not answer from the simulator:\n%s", text)
	}
	if _, err := os.Stat(envFile); !os.IsNotExist(err) {
		t.Errorf("env file left behind after the simulator stopped (stat: %v)", err)
	}
}

// hangBound bounds tests that run processes which could hang: a hang
// detector, far above the time they take.
const hangBound = 2 * time.Minute

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// TestSimEnvFile checks --env-file in-process: the file holds the export
// lines the simulator printed, and is gone once it stops.
func TestSimEnvFile(t *testing.T) {
	envFile := filepath.Join(t.TempDir(), "sim.env")
	ep, out, stop := startSim(t, "--env-file", envFile)
	raw, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	var exports []string
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "export ") {
			exports = append(exports, line)
		}
	}
	for _, line := range exports {
		if !strings.Contains(string(raw), line+"\n") {
			t.Errorf("env file lacks %q:\n%s", line, raw)
		}
	}
	if len(exports) != 4 || !strings.Contains(string(raw), "export AWS_ENDPOINT_URL="+ep+"\n") {
		t.Errorf("env file:\n%s\nstdout:\n%s", raw, out)
	}
	if code := stop(); code != 0 {
		t.Fatalf("sim exited %d", code)
	}
	if _, err := os.Stat(envFile); !os.IsNotExist(err) {
		t.Errorf("env file left behind (stat: %v)", err)
	}
	// A directory that does not exist: exit 1 before serving.
	var o, e bytes.Buffer
	if code := run(context.Background(), []string{"sim", "--listen", "127.0.0.1:0", "--env-file", filepath.Join(t.TempDir(), "no", "such", "dir")}, strings.NewReader(""), &o, &e); code != exitFailed || !strings.Contains(e.String(), "--env-file") {
		t.Errorf("unwritable --env-file: exit %d, %s", code, e.String())
	}
}

func TestSimCommandLineErrors(t *testing.T) {
	dir := t.TempDir()
	badSeed := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badSeed, []byte("images:\n  - region: us-east-1\n  - region: us-east-2\n"), 0o644)
	unknownKey := filepath.Join(dir, "unknown.yaml")
	os.WriteFile(unknownKey, []byte("images:\n  - region: us-east-1\n    colour: red\n"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--listen", "0.0.0.0:4566"}, "not a loopback address"},
		{[]string{"--listen", "nonsense"}, "--listen"},
		{[]string{"--error-rate", "1.5"}, "--error-rate 1.5"},
		{[]string{"--throttle-scale", "0"}, "--throttle-scale"},
		{[]string{"--afi-limit", "-1"}, "--afi-limit -1"},
		{[]string{"--copy-time", "-1s"}, "--copy-time"},
		{[]string{"--accounts", "AKID=12"}, "--accounts"},
		{[]string{"--fpga-regions", "us-east-9"}, "unknown region"},
		{[]string{"--deny", "CopyFpgaImage"}, "--deny"},
		{[]string{"--deny", "12345"}, "--deny"},
		{[]string{"--role-external-id", "arn:aws:iam::111122223333:role/x"}, "--role-external-id"},
		{[]string{"--role-external-id", "arn:aws:iam::1111:role/x=id"}, "--role-external-id"},
		{[]string{"--seed", badSeed}, "bad.yaml:3: ec2sim: region \"us-east-2\" is not an FPGA region"},
		{[]string{"--seed", unknownKey}, "field colour not found"},
		{[]string{"--seed", filepath.Join(dir, "missing.yaml")}, "missing.yaml"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), append([]string{"sim"}, tc.args...), strings.NewReader(""), &out, &errOut)
			if code != exitInvalid || !strings.Contains(errOut.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut.String(), exitInvalid, tc.want)
			}
		})
	}
}

func TestSimListenAddresses(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		remote bool
		ok     bool
	}{
		{"127.0.0.1:0", false, true},
		{"[::1]:4566", false, true},
		{"localhost:4566", false, true},
		{"0.0.0.0:4566", false, false},
		{":4566", false, false},
		{"10.0.0.1:4566", false, false},
		{"0.0.0.0:4566", true, true},
	} {
		if err := checkListen(tc.addr, tc.remote); (err == nil) != tc.ok {
			t.Errorf("checkListen(%q, %v) = %v", tc.addr, tc.remote, err)
		}
	}
}

// TestSimAFILimitWithAWSCLI: with --afi-limit the aws CLI sees a copy past
// the limit refused with ResourceLimitExceeded, and Service Quotas report
// the limit as the AFI quota.
func TestSimAFILimitWithAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the aws CLI")
	}
	needAWSCLI(t)
	seed := filepath.Join(t.TempDir(), "seed.yaml")
	if err := os.WriteFile(seed, []byte(seedYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	ep, _, stop := startSim(t, "--seed", seed, "--afi-limit", "1")
	defer stop()
	copyJob := &awsJob{region: "us-east-1", args: []string{"ec2", "copy-fpga-image", "--source-region", "us-east-1", "--source-fpga-image-id", "afi-01a7ea9bafe3ef8cc"}}
	quotaJob := &awsJob{region: "us-east-1", args: []string{"service-quotas", "get-service-quota", "--service-code", "ec2", "--quota-code", "L-8FBBDF0C"}}
	awsBatch(t, ep, copyJob, quotaJob)
	if copyJob.code == 0 || !strings.Contains(copyJob.errOut, "(ResourceLimitExceeded)") || !strings.Contains(copyJob.errOut, "limit of 1 Amazon FPGA images") {
		t.Errorf("copy past the limit: exit %d, %s", copyJob.code, copyJob.errOut)
	}
	q, _ := quotaJob.decoded(t)["Quota"].(map[string]any)
	if q["Value"] != 1.0 || q["QuotaName"] != "Amazon FPGA images (AFIs)" {
		t.Errorf("get-service-quota: %v", q)
	}
}
