package hls

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/worker"
)

const (
	patternsDir = "testdata/patterns"
	ownNets     = "codegen/hls/testdata/nets"
)

// TestNetDispatch runs every scenario of every program in
// testdata/patterns through runtime/engine (as runtime/patterns does:
// extern tasks answered by echo functions, a fake clock), records the
// case's events, and feeds the same events to the C-simulation of the
// started workflow's dispatch module: each step of the module must
// dispatch what the engine fired, armed or took, in the same order, and
// after every event its marking, running calls, armed timers and status
// must be the engine's. Between the engine's own decisions and the
// outside events (completions, signals, timers) the module must have
// nothing to dispatch, as the engine had not. The programs whose control
// part does not fit are listed with the reasons, which must be the ones
// testdata/netfit.golden records (KNHK_UPDATE=1 rewrites it).
func TestNetDispatch(t *testing.T) {
	gxx(t)
	files, err := filepath.Glob(filepath.Join(root(), patternsDir, "*.knhk"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no pattern programs: %v", err)
	}
	// This package's own nets reach what the patterns do not: signals
	// buffered before their wait, a timer armed and then disarmed.
	own, err := filepath.Glob(filepath.Join(root(), ownNets, "*.knhk"))
	if err != nil || len(own) == 0 {
		t.Fatalf("no nets in %s: %v", ownNets, err)
	}
	files = append(files, own...)
	var report []string
	fit := 0
	for _, path := range files {
		base := strings.TrimSuffix(filepath.Base(path), ".knhk")
		rel, _ := filepath.Rel(root(), path)
		p, ok := build(t, rel)
		if !ok {
			t.Fatalf("%s does not build", base)
		}
		scs := scenarios(t, strings.TrimSuffix(path, ".knhk")+".trace")
		var flows []string
		for _, sc := range scs {
			if !contains(flows, sc.workflow) {
				flows = append(flows, sc.workflow)
			}
		}
		for _, wf := range flows {
			mod, err := Net(p, wf, Options{})
			if nf, ok := err.(*NotFit); ok {
				report = append(report, fmt.Sprintf("%s %s: %s", base, wf, strings.Join(nf.Reasons, "; ")))
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", base, err)
			}
			fit++
			report = append(report, fmt.Sprintf("%s %s: fits (%d places in %d marking bits, %d transitions, %d busy bits)", base, wf, mod.Places, mod.MarkingBits, mod.Trans, mod.BusyBits))
			t.Run(base+"/"+wf, func(t *testing.T) {
				bin := compileNet(t, mod)
				sampleRuns(t, mod, bin)
				for _, sc := range scs {
					if sc.workflow == wf {
						checkScenario(t, p, mod, bin, sc)
					}
				}
			})
		}
	}
	got := strings.Join(report, "\n") + "\n"
	golden := filepath.Join("testdata", "netfit.golden")
	if os.Getenv("KNHK_UPDATE") != "" {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (KNHK_UPDATE=1 writes it)", err)
	}
	if string(want) != got {
		t.Errorf("which nets fit changed (KNHK_UPDATE=1 rewrites %s):\n%s", golden, got)
	}
	if fit < 10 {
		t.Errorf("only %d pattern workflows fit", fit)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func compileNet(t *testing.T, mod *NetModule) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string][]byte{HeaderName: []byte(Header)}
	for n, b := range mod.Files {
		files[n] = b
	}
	writeFiles(t, dir, files)
	base := strings.TrimSuffix(mod.Top, "")[len("knhk_net_"):] + "_net"
	return compileCpp(t, dir, "tb", base+".cpp", base+"_tb.cpp")
}

// scenario is the actions of one scenario of a .trace file.
type scenario struct {
	name     string
	workflow string
	actions  []string
}

// scenarios reads the actions of a .trace file (its expected traces are
// runtime/patterns' business).
func scenarios(t *testing.T, path string) []*scenario {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []*scenario
	var cur *scenario
	inTrace := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "=== "):
			cur = &scenario{name: strings.TrimSpace(l[4:])}
			out = append(out, cur)
			inTrace = false
		case strings.HasPrefix(l, "--- "):
			inTrace = true
		case inTrace || cur == nil:
		default:
			cur.actions = append(cur.actions, l)
			if w, ok := strings.CutPrefix(l, "start "); ok {
				cur.workflow, _, _ = strings.Cut(w, " ")
			}
		}
	}
	return out
}

// clock is the fake case clock; extern task tick advances it.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// registry answers the extern tasks of the pattern programs as
// testdata/patterns/README.md describes: the first argument of the
// result's kind, else true, 0 or the task's name; tick advances the
// clock, inc adds one, third is true from its third call on.
func registry(p *ir.Program, clk *clock) *worker.Registry {
	r := worker.NewRegistry()
	var mu sync.Mutex
	calls := 0
	for _, tk := range p.Tasks {
		if tk == nil || tk.Binding.Kind != ir.BindExtern {
			continue
		}
		r.Register(tk.Binding.Target, func(_ context.Context, c worker.Call) (eval.Value, error) {
			rk := c.Program.KindOf(c.Task.Result)
			if c.Task.Binding.Target == "third" {
				mu.Lock()
				defer mu.Unlock()
				calls++
				return eval.Bool(calls >= 3), nil
			}
			for i, a := range c.Args {
				if c.Task.Params[i].Type == ir.Duration && c.Task.Binding.Target == "tick" {
					clk.advance(a.AsDuration())
				}
			}
			for _, a := range c.Args {
				if c.Task.Binding.Target == "inc" && a.Kind() == ir.KindInt {
					return eval.Int(a.AsInt() + 1), nil
				}
				if a.Kind() == rk {
					return a, nil
				}
			}
			switch rk {
			case ir.KindBool:
				return eval.Bool(true), nil
			case ir.KindInt:
				return eval.Int(0), nil
			case ir.KindString:
				return eval.Str(c.Task.Name), nil
			}
			return eval.Value{}, nil
		})
	}
	return r
}

// runEngine plays sc through the engine and returns the case's events.
func runEngine(t *testing.T, p *ir.Program, sc *scenario) []engine.Event {
	t.Helper()
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	log := engine.NewMemLog()
	w := worker.New(p, worker.Options{Registry: registry(p, clk), Log: &strings.Builder{}})
	eng, err := engine.New(engine.Config{Program: p, Eval: &host.Evaluator{}, Worker: w, Log: log, Clock: clk, MaxSteps: 10000, Rounds: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const id = "c"
	for _, a := range sc.actions {
		verb, rest, _ := strings.Cut(a, " ")
		switch verb {
		case "start", "signal":
			name, js, _ := strings.Cut(strings.TrimSpace(rest), " ")
			vals, err := host.JSONArgs(p, verb == "start", name, js)
			if err != nil {
				t.Fatalf("%s: action %q: %v", sc.name, a, err)
			}
			if verb == "start" {
				err = eng.Start(ctx, id, name, vals)
			} else {
				err = eng.Signal(ctx, id, name, vals)
			}
			if err != nil {
				t.Fatalf("%s: action %q: %v", sc.name, a, err)
			}
		case "advance":
			d, err := time.ParseDuration(strings.TrimSpace(rest))
			if err != nil {
				t.Fatalf("%s: action %q: %v", sc.name, a, err)
			}
			clk.advance(d)
			if err := eng.Run(ctx, id); err != nil {
				t.Fatalf("%s: action %q: %v", sc.name, a, err)
			}
		default:
			t.Fatalf("%s: unknown action %q", sc.name, a)
		}
	}
	return log.Events(id)
}

// checkScenario runs sc on the engine and replays its events on the
// module's C-simulation.
func checkScenario(t *testing.T, p *ir.Program, mod *NetModule, bin string, sc *scenario) {
	evs := runEngine(t, p, sc)
	m, err := engine.NewMachine(p)
	if err != nil {
		t.Fatal(err)
	}
	steps, err := Replay(m, mod, evs)
	if err != nil {
		t.Fatalf("%s: %v", sc.name, err)
	}
	cmd := exec.Command(bin)
	cmd.Stdin = strings.NewReader(ReplayInput(steps))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: testbench: %v%s", sc.name, err, stderrOf(err))
	}
	decisions, err := CheckReplay(mod, steps, string(out))
	if err != nil {
		t.Fatalf("%s: %v", sc.name, err)
	}
	if decisions == 0 {
		t.Fatalf("%s: no dispatch decision compared", sc.name)
	}
	t.Logf("%s: %d dispatch decisions and %d events matched", sc.name, decisions, len(steps))
}

// sampleRuns runs the testbench on the sample events knhk hls writes
// beside the module (the Tcl script's C-simulation input): a start and
// then a step per transition, each answered, the case running after the
// start.
func sampleRuns(t *testing.T, mod *NetModule, bin string) {
	t.Helper()
	base := mod.Top[len("knhk_net_"):] + "_net"
	path := filepath.Join(t.TempDir(), base+"_events.txt")
	if err := os.WriteFile(path, mod.Files[base+"_events.txt"], 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, path).Output()
	if err != nil {
		t.Fatalf("testbench on %s: %v%s", path, err, stderrOf(err))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 1+mod.Trans || !strings.HasSuffix(lines[0], " 1") {
		t.Fatalf("sample events: %d transitions, results %q", mod.Trans, out)
	}
}

// TestCheckReplayReports: a wrong dispatch decision, a wrong marking and
// a missing result are each reported with the event they concern.
func TestCheckReplayReports(t *testing.T) {
	mod := &NetModule{OutArcs: [][]int{{1}, {2}}, TransNames: []string{"a", "b"}}
	steps := []ReplayStep{
		{Line: "0 0 0 0", What: "start", CheckState: true, Status: StatusRunning, Marking: 1},
		{Line: "1 0 1 0", What: "engine fires a", CheckKind: true, Kind: ResFire, Trans: 0, CheckState: true, Status: StatusRunning, Marking: 2},
	}
	for _, c := range []struct{ out, want string }{
		{"0 0 1 0 0 1\n1 0 2 0 0 1\n", ""},
		{"0 0 1 0 0 1\n1 1 2 0 0 1\n", "event 2 (engine fires a): the module dispatches fires b"},
		{"0 0 1 0 0 1\n0 0 1 0 0 1\n", "event 2 (engine fires a): the module dispatches nothing"},
		{"0 0 3 0 0 1\n1 0 2 0 0 1\n", "after event 1 (start): module marking 3 busy 0 armed 0, engine 1 0 0"},
		{"0 0 1 0 0 1\n", "2 events in, 1 results out"},
	} {
		n, err := CheckReplay(mod, steps, c.out)
		switch {
		case c.want == "" && (err != nil || n != 1):
			t.Errorf("%q: %d decisions, %v", c.out, n, err)
		case c.want != "" && (err == nil || err.Error() != c.want):
			t.Errorf("%q: got %v, want %s", c.out, err, c.want)
		}
	}
}
