// This file runs every workflow of the examples through the knhk command,
// built once from ./cmd/knhk, exactly as the README tells a user to:
// knhk run with the example's input from examples/inputs (and its mock
// from examples/mocks where the example calls services or tasks that
// only an embedding program implements), then knhk signal for a case
// that waits for a person. Each ends with the exact result JSON below.

package examples

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// exampleRun is one workflow of an example run from the command line.
type exampleRun struct {
	file     string
	workflow string // "" when the file declares one
	input    string // under inputs/
	mock     string // under mocks/, "" for none
	signals  [][2]string
	// want is the result printed by the last command; $CASE stands for
	// the case id (the exec scripts put it in their ids).
	want string
	// fails, when set, is a message the failed case's report holds.
	fails string
}

var exampleRuns = []exampleRun{
	{file: "hello.knhk", input: "hello.json",
		want: `{"lines":["hello, Ada","hello, Grace","hello, Linus"],"previous":"nobody","ticket":"c94db6dae2ce4edd547b7ad282f743193470712cd879c6f4413cf3808f67b943"}`},
	{file: "shop.knhk", input: "order.json",
		want: `{"amount":33,"order":"o-1001","payment":"P-$CASE","reservation":"R-$CASE","shipping":7.5}`},
	{file: "shop.knhk", input: "declined.json", fails: "task charge: exit status 2: card declined"},
	{file: "orders.knhk", input: "orders.json", mock: "orders.json",
		want: `{"amount":29.7,"order":"o-2001","payment":"P-o-2001","reservation":"R-$CASE","tracking":"1Z-2001"}`},
	{file: "loan.knhk", input: "loan.json", mock: "loan.json",
		signals: [][2]string{{"Decided", `{"verdict": "approved", "officer": "Grace", "note": "collateral checked", "rate": 0.05}`}},
		want:    `{"account":"ACC-301","application":"a-301","monthly":958.3333333333334,"officer":"Grace","rate":0.05}`},
	{file: "incident.knhk", input: "incident.json", mock: "incident.json",
		signals: [][2]string{{"Ack", `"ana"`}, {"Resolved", `{"by": "ana", "cause": "a bad deploy"}`}},
		want:    `{"alert":"al-42","cause":"a bad deploy","levels":1,"owner":"ana","severity":"sev1"}`},
	{file: "etl.knhk", workflow: "Nightly", input: "etl.json", mock: "etl.json",
		want: `{"date":"2026-03-01","flagged":0,"rows":3,"total":242.75}`},
	{file: "etl.knhk", workflow: "Backfill", input: "backfill.json", mock: "etl.json", want: `0`},
	{file: "fraud.knhk", input: "fraud.json", mock: "fraud.json",
		want: `{"batch":"b-77","cleared":2,"reviewed":1}`},
	{file: "review.knhk", input: "review.json", mock: "review.json",
		want: `{"comments":1,"doc":"doc-5","url":"https://cms.example.com/pages/doc-5"}`},
}

var caseIDLine = regexp.MustCompile(`(?m)^case (c-[0-9a-f]{16})\b`)

func TestExamplesRunFromCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the knhk command")
	}
	knhk := filepath.Join(t.TempDir(), "knhk")
	if out, err := exec.Command("go", "build", "-o", knhk, "../cmd/knhk").CombinedOutput(); err != nil {
		t.Fatalf("go build ../cmd/knhk: %v\n%s", err, out)
	}
	for _, r := range exampleRuns {
		name := strings.TrimSuffix(r.file, ".knhk") + "/" + strings.TrimSuffix(r.input, ".json")
		t.Run(name, func(t *testing.T) {
			data := t.TempDir()
			args := []string{"run", "--data", data, "--input", filepath.Join("inputs", r.input)}
			if r.workflow != "" {
				args = append(args, "--workflow", r.workflow)
			}
			if r.mock != "" {
				args = append(args, "--mock", filepath.Join("mocks", r.mock))
			}
			code, stdout, stderr := runKnhk(t, knhk, append(args, r.file)...)
			m := caseIDLine.FindStringSubmatch(stderr)
			if m == nil {
				t.Fatalf("knhk %s: exit %d, no case started:\n%s", strings.Join(args, " "), code, stderr)
			}
			id := m[1]
			for _, s := range r.signals {
				if code != 0 || !strings.Contains(stderr, "is waiting for signal "+s[0]) {
					t.Fatalf("before signal %s: exit %d, want the case waiting for it:\n%s%s", s[0], code, stdout, stderr)
				}
				code, stdout, stderr = runKnhk(t, knhk, "signal", "--data", data, id, s[0], s[1])
			}
			if r.fails != "" {
				if code != 1 || !strings.Contains(stderr, r.fails) || stdout != "" {
					t.Fatalf("exit %d, want the case failed with %q:\n%s%s", code, r.fails, stdout, stderr)
				}
				return
			}
			want := strings.ReplaceAll(r.want, "$CASE", id) + "\n"
			if code != 0 || stdout != want {
				t.Fatalf("exit %d, result\n%s want\n%s%s", code, stdout, want, stderr)
			}
		})
	}
}

// TestEveryExampleRuns holds every workflow of every example to a run in
// exampleRuns, so that an example added later is runnable too.
func TestEveryExampleRuns(t *testing.T) {
	covered := map[string]bool{}
	for _, r := range exampleRuns {
		covered[r.file+" "+r.workflow] = true
		covered[r.file] = true
		for _, p := range []string{filepath.Join("inputs", r.input), filepath.Join("mocks", r.mock)} {
			if _, err := os.Stat(p); err != nil && p != "mocks" {
				t.Errorf("%s: %v", r.file, err)
			}
		}
	}
	for _, path := range exampleFiles(t) {
		src := readExample(t, path)
		var flows []string
		for _, m := range regexp.MustCompile(`(?m)^workflow (\w+)`).FindAllSubmatch(src, -1) {
			flows = append(flows, string(m[1]))
		}
		switch {
		case len(flows) == 0:
			continue // a library (common.knhk)
		case len(flows) == 1:
			if !covered[path] {
				t.Errorf("%s: no run in exampleRuns", path)
			}
		default:
			for _, w := range flows {
				if !covered[path+" "+w] {
					t.Errorf("%s: workflow %s has no run in exampleRuns", path, w)
				}
			}
		}
	}
	if !slices.ContainsFunc(exampleRuns, func(r exampleRun) bool { return r.fails != "" }) {
		t.Error("no example run shows a failure")
	}
}

func runKnhk(t *testing.T, knhk string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(knhk, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("knhk %s: %v", strings.Join(args, " "), err)
		}
		code = ee.ExitCode()
	}
	return code, stdout.String(), stderr.String()
}
