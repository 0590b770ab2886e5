// This file runs every workflow pattern program of testdata/patterns
// through the command line as a user would: knhk run with the program's
// mock file (its tasks are extern, so only --mock can answer them from
// the command line), then knhk signal for each signal of the program's
// first .trace scenario, and checks that the case ends as that scenario's
// first trace says: completed (with its result), failed, cancelled or
// still running.
//
// The mock files, testdata/patterns/NAME.mock.json, hold per task the
// results that the first trace shows in call order (the pattern
// harness's echo results); KNHK_UPDATE=1 writes them afresh from the
// traces. A mocked case skips the time it only waits for, and the
// scenario's "advance" actions become knhk resume --advance while the
// case waits for a signal too.

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/knhk/knhk/compiler/ir"
)

const patternDir = "../../testdata/patterns"

func TestPatternsRunFromCLI(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(patternDir, "*.knhk"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no pattern programs in %s (%v)", patternDir, err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".knhk")
		t.Run(name, func(t *testing.T) {
			sc := firstScenario(t, strings.TrimSuffix(file, ".knhk")+".trace")
			prog := compileForTest(t, file)
			mockPath := strings.TrimSuffix(file, ".knhk") + ".mock.json"
			if os.Getenv("KNHK_UPDATE") != "" {
				writePatternMock(t, prog, sc, mockPath)
			}
			runScenario(t, file, mockPath, prog, sc)
		})
	}
}

// scenario is what the test takes from a .trace file's first scenario.
type scenario struct {
	workflow string
	args     []json.RawMessage
	actions  []scenarioAction    // the signals and advances, in order
	done     map[string][]string // task -> its "done" results in order ("null" for none)
	end      string              // the trace's last line
}

// scenarioAction is a signal (name and payload) or, when advance is
// set, a move of the clock.
type scenarioAction struct {
	name    string
	payload []json.RawMessage
	advance string
}

func firstScenario(t *testing.T, path string) *scenario {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := &scenario{done: map[string][]string{}}
	section := "" // "", "actions", "trace"
	sawTrace := false
	s := bufio.NewScanner(f)
	s.Buffer(nil, 1<<20)
	for s.Scan() {
		line := s.Text()
		switch {
		case strings.HasPrefix(line, "==="):
			if section != "" {
				return sc
			}
			section = "actions"
			continue
		case strings.HasPrefix(line, "---"):
			if sawTrace {
				return sc // an alternative trace: the first one is what counts
			}
			section, sawTrace = "trace", true
			continue
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		}
		switch section {
		case "actions":
			verb, rest, _ := strings.Cut(line, " ")
			switch verb {
			case "start":
				w, args, _ := strings.Cut(rest, " ")
				sc.workflow = w
				if err := json.Unmarshal([]byte(args), &sc.args); err != nil {
					t.Fatalf("%s: %q: %v", path, line, err)
				}
			case "signal":
				n, payload, _ := strings.Cut(rest, " ")
				sig := scenarioAction{name: n}
				if err := json.Unmarshal([]byte(payload), &sig.payload); err != nil {
					t.Fatalf("%s: %q: %v", path, line, err)
				}
				sc.actions = append(sc.actions, sig)
			case "advance":
				sc.actions = append(sc.actions, scenarioAction{advance: rest})
			}
		case "trace":
			sc.end = line
			if rest, ok := strings.CutPrefix(line, "done "); ok {
				task, val, hasVal := strings.Cut(rest, " = ")
				if !hasVal {
					val = "null"
				}
				sc.done[task] = append(sc.done[task], val)
			}
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	if sc.workflow == "" || sc.end == "" {
		t.Fatalf("%s: the first scenario has no start or no trace", path)
	}
	return sc
}

func compileForTest(t *testing.T, file string) *ir.Program {
	t.Helper()
	var stderr bytes.Buffer
	c, _ := compileFile(&env{stderr: &stderr}, file)
	if c == nil {
		t.Fatalf("%s does not compile:\n%s", file, stderr.String())
	}
	return c.prog
}

// writePatternMock writes the mock file of a pattern program: each task
// answers what the first trace shows it answering, in call order (one
// value when it always answers the same), and a task that never
// completes there answers what the pattern harness's echo would without
// arguments of the result's kind: true, 0 or the task's name.
func writePatternMock(t *testing.T, prog *ir.Program, sc *scenario, path string) {
	t.Helper()
	m := map[string]json.RawMessage{}
	for _, task := range prog.Tasks {
		if task == nil {
			continue
		}
		vals := sc.done[task.Name]
		if len(vals) == 0 {
			switch prog.KindOf(task.Result) {
			case ir.KindVoid:
				vals = []string{"null"}
			case ir.KindBool:
				vals = []string{"true"}
			case ir.KindInt, ir.KindFloat:
				vals = []string{"0"}
			case ir.KindString:
				vals = []string{fmt.Sprintf("%q", task.Name)}
			default:
				t.Fatalf("task %s (result %s) never completes in the first trace; write its mock by hand", task.Name, prog.TypeString(task.Result))
			}
		}
		same := true
		for _, v := range vals {
			same = same && v == vals[0]
		}
		if same && prog.KindOf(task.Result) != ir.KindList {
			m[task.Name] = json.RawMessage(vals[0])
			continue
		}
		if same {
			vals = vals[:1]
		}
		m[task.Name] = json.RawMessage("[" + strings.Join(vals, ", ") + "]")
	}
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("{\n")
	for i, n := range names {
		fmt.Fprintf(&b, "  %q: %s", n, m[n])
		if i < len(names)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("}\n")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runScenario runs sc through knhk run and knhk signal and checks the
// last command's outcome against the first trace's last line.
func runScenario(t *testing.T, file, mock string, prog *ir.Program, sc *scenario) {
	t.Helper()
	net := prog.Net(sc.workflow)
	if net == nil {
		t.Fatalf("no workflow %s", sc.workflow)
	}
	input, err := namedPayload(paramNames(net.Params), sc.args)
	if err != nil {
		t.Fatalf("start %s: %v", sc.workflow, err)
	}
	data := t.TempDir()
	args := []string{"run", "--data", data, "--mock", mock, "--workflow", sc.workflow}
	if input != "" {
		args = append(args, "--input-json", input)
	}
	code, stdout, stderr := runCLI(append(args, file)...)
	id := caseLineRE.FindStringSubmatch(stderr)
	for _, sig := range sc.actions {
		if id == nil {
			t.Fatalf("knhk %s: exit %d, no case id to signal:\n%s", strings.Join(args, " "), code, stderr)
		}
		if code != exitOK || !strings.Contains(stderr, "is waiting for signal") {
			// The case has ended: having skipped the time it only
			// waited for, it may end before the scenario's last
			// actions, which then find nothing to act on.
			break
		}
		if sig.advance != "" {
			// The clock moves for the timers of a case that waits for a
			// signal too.
			code, stdout, stderr = runCLI("resume", "--data", data, "--advance", sig.advance, id[1])
			continue
		}
		var names []string
		for _, s := range net.Signals {
			if s != nil && s.Name == sig.name {
				names = paramNames(s.Params)
			}
		}
		payload, err := namedPayload(names, sig.payload)
		if err != nil {
			t.Fatalf("signal %s: %v", sig.name, err)
		}
		sargs := []string{"signal", "--data", data, id[1], sig.name}
		if payload != "" {
			sargs = append(sargs, payload)
		}
		code, stdout, stderr = runCLI(sargs...)
	}
	out := strings.TrimSpace(stdout)
	switch want := sc.end; {
	case want == "completed":
		if code != exitOK || out != "" || strings.Contains(stderr, "is waiting") {
			t.Errorf("exit %d, want completed without a result:\n%s%s", code, stdout, stderr)
		}
	case strings.HasPrefix(want, "completed = "):
		if v := strings.TrimPrefix(want, "completed = "); code != exitOK || out != v {
			t.Errorf("exit %d, result %q, want completed = %s:\n%s", code, out, v, stderr)
		}
	case strings.HasPrefix(want, "failed: "):
		if msg := strings.TrimPrefix(want, "failed: "); code != exitUser || !strings.Contains(stderr, msg) {
			t.Errorf("exit %d, want failed: %s:\n%s", code, msg, stderr)
		}
	case want == "cancelled":
		if code != exitUser || !strings.Contains(stderr, "was cancelled") {
			t.Errorf("exit %d, want cancelled:\n%s", code, stderr)
		}
	case want == "running":
		if code != exitOK || !strings.Contains(stderr, "is waiting for signal") {
			t.Errorf("exit %d, want a case left waiting:\n%s%s", code, stdout, stderr)
		}
	default:
		t.Fatalf("the first trace ends with %q, which this test does not know", want)
	}
}

func paramNames(ps []ir.Param) []string {
	names := make([]string, len(ps))
	for i, p := range ps {
		names[i] = p.Name
	}
	return names
}

// namedPayload turns a trace's argument list into knhk's input rule: the
// value of a single parameter, an object for several, "" for none.
func namedPayload(names []string, args []json.RawMessage) (string, error) {
	if len(args) != len(names) {
		return "", fmt.Errorf("%d arguments for parameters %v", len(args), names)
	}
	switch len(args) {
	case 0:
		return "", nil
	case 1:
		return string(args[0]), nil
	}
	obj := map[string]json.RawMessage{}
	for i, n := range names {
		obj[n] = args[i]
	}
	b, err := json.Marshal(obj)
	return string(b), err
}

// runCLI runs knhk with args in this process, as a user's shell would.
func runCLI(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}
	code := run(e, args)
	return code, stdout.String(), stderr.String()
}
