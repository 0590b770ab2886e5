package hls

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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
			report = append(report, fmt.Sprintf("%s %s: fits (%d places, %d transitions)", base, wf, mod.Places, mod.Trans))
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

// hwEvent is one line for the testbench and what the module must answer.
type hwEvent struct {
	line      string
	kind      int // expected result kind
	trans     int
	checkKind bool
	what      string
}

func outsMask(outs []int32, n int) uint64 {
	if outs == nil {
		return 1<<uint(n) - 1
	}
	var m uint64
	for _, k := range outs {
		m |= 1 << uint(k)
	}
	return m
}

// checkScenario replays the engine's events on a shadow state and on the
// module, step by step.
func checkScenario(t *testing.T, p *ir.Program, mod *NetModule, bin string, sc *scenario) {
	evs := runEngine(t, p, sc)
	m, err := engine.NewMachine(p)
	if err != nil {
		t.Fatal(err)
	}
	n := p.Net(mod.Workflow)
	// First pass: translate the events and record the engine's state
	// after each one.
	var hw []hwEvent
	type snap struct {
		marking      uint64
		busy, armed  uint64
		status       int
		after        int // index into hw
		unsafePlaces string
	}
	var snaps []snap
	s := &engine.State{ID: "shadow"}
	none := func(why string) hwEvent {
		return hwEvent{line: fmt.Sprintf("%d 0 0 0", EvStep), kind: ResNone, checkKind: true, what: "nothing to dispatch " + why}
	}
	for i := range evs {
		e := &evs[i]
		var tr *ir.Transition
		if int(e.Trans) >= 0 && int(e.Trans) < len(n.Transitions) {
			tr = n.Transitions[e.Trans]
		}
		switch e.Kind {
		case engine.EvStart:
			hw = append(hw, hwEvent{line: fmt.Sprintf("%d 0 0 0", EvStart), what: "start"})
		case engine.EvFire:
			if e.Frame != 0 {
				t.Fatalf("%s: event %d fires in frame %d: a fitting net has one frame", sc.name, i, e.Frame)
			}
			k := ResFire
			if tr.Kind == ir.TSignal {
				k = ResWait
			}
			hw = append(hw, hwEvent{line: fmt.Sprintf("%d 0 %x 0", EvStep, outsMask(e.Outs, len(mod.OutArcs[e.Trans]))), kind: k, trans: int(e.Trans), checkKind: true, what: "engine fires " + tr.Name})
		case engine.EvArm:
			hw = append(hw, hwEvent{line: fmt.Sprintf("%d 0 0 0", EvStep), kind: ResArm, trans: int(e.Trans), checkKind: true, what: "engine arms " + tr.Name})
		case engine.EvTimer:
			hw = append(hw, none("before the timer"))
			hw = append(hw, hwEvent{line: fmt.Sprintf("%d %d %x 0", EvTimer, e.Trans, outsMask(e.Outs, len(mod.OutArcs[e.Trans]))), what: "timer " + tr.Name})
		case engine.EvDone:
			var inv *engine.Inv
			for _, v := range s.Invs {
				if v.ID == e.Inv {
					inv = v
				}
			}
			if inv == nil || inv.Comp || inv.Hook {
				break
			}
			hw = append(hw, none("before a completion"))
			hw = append(hw, hwEvent{line: fmt.Sprintf("%d %d %x 0", EvDone, inv.Trans, outsMask(e.Outs, len(mod.OutArcs[inv.Trans]))), what: "completion of " + n.Transitions[inv.Trans].Name})
		case engine.EvSignal:
			label := -1
			for l, name := range mod.Labels {
				if name == e.Name {
					label = l
				}
			}
			if label >= 0 {
				hw = append(hw, none("before a signal"))
				hw = append(hw, hwEvent{line: fmt.Sprintf("%d 0 0 %d", EvSignal, label), what: "signal " + e.Name})
			}
		case engine.EvFail, engine.EvCancel:
			hw = append(hw, hwEvent{line: fmt.Sprintf("%d 0 0 0", EvFail), what: "failure"})
		case engine.EvFailed, engine.EvRetry, engine.EvCompRetry:
		default:
			if s.Status == engine.Running {
				t.Fatalf("%s: event %d is a %v, which a fitting net does not produce", sc.name, i, e.Kind)
			}
		}
		if err := m.Apply(s, e); err != nil {
			t.Fatalf("%s: event %d: %v", sc.name, i, err)
		}
		sn := snap{after: len(hw) - 1}
		switch s.Status {
		case engine.Running:
			sn.status = StatusRunning
		case engine.Completed:
			sn.status = StatusCompleted
		default:
			sn.status = StatusEnded
		}
		if f := s.Root(); f != nil && sn.status == StatusRunning {
			for q, c := range f.Marking {
				if c > 1 {
					sn.unsafePlaces += n.Places[q].Name + " "
				}
				if c > 0 {
					sn.marking |= 1 << q
				}
			}
			for _, v := range s.Invs {
				if v.Frame == 0 && !v.Comp && !v.Hook {
					sn.busy |= 1 << v.Trans
				}
			}
			for _, tm := range s.Timers {
				sn.armed |= 1 << tm.Trans
			}
		}
		snaps = append(snaps, sn)
		if sn.status != StatusRunning {
			break
		}
	}
	last := snaps[len(snaps)-1]
	if last.status == StatusRunning {
		hw = append(hw, none("at the end"))
	}
	// Run the C-simulation on the whole stream.
	var in strings.Builder
	for _, h := range hw {
		in.WriteString(h.line + "\n")
	}
	cmd := exec.Command(bin)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: testbench: %v", sc.name, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(hw) {
		t.Fatalf("%s: %d events in, %d results out", sc.name, len(hw), len(lines))
	}
	type res struct {
		kind, trans          int
		marking, busy, armed uint64
		status               int
	}
	results := make([]res, len(lines))
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) != 6 {
			t.Fatalf("%s: bad result line %q", sc.name, l)
		}
		var r res
		r.kind, _ = strconv.Atoi(f[0])
		r.trans, _ = strconv.Atoi(f[1])
		r.marking, _ = strconv.ParseUint(f[2], 16, 64)
		r.busy, _ = strconv.ParseUint(f[3], 16, 64)
		r.armed, _ = strconv.ParseUint(f[4], 16, 64)
		r.status, _ = strconv.Atoi(f[5])
		results[i] = r
	}
	for i, h := range hw {
		if h.checkKind && (results[i].kind != h.kind || h.kind != ResNone && results[i].trans != h.trans) {
			t.Fatalf("%s: event %d (%s): the module dispatches kind %d transition %d (%s)", sc.name, i, h.what, results[i].kind, results[i].trans, transName(n, results[i].kind, results[i].trans))
		}
	}
	decisions := 0
	for _, sn := range snaps {
		if sn.after < 0 {
			continue
		}
		r := results[sn.after]
		if sn.unsafePlaces != "" {
			t.Fatalf("%s: the engine marks %swith more than one token, which the fit check should have excluded", sc.name, sn.unsafePlaces)
		}
		if r.status != sn.status {
			t.Fatalf("%s: after %s: module status %d, engine %d", sc.name, hw[sn.after].what, r.status, sn.status)
		}
		if sn.status != StatusRunning {
			break
		}
		if r.marking != sn.marking || r.busy != sn.busy || r.armed != sn.armed {
			t.Fatalf("%s: after %s: module marking %x busy %x armed %x, engine %x %x %x", sc.name, hw[sn.after].what, r.marking, r.busy, r.armed, sn.marking, sn.busy, sn.armed)
		}
	}
	for _, h := range hw {
		if h.checkKind && h.kind != ResNone {
			decisions++
		}
	}
	if decisions == 0 {
		t.Fatalf("%s: no dispatch decision compared", sc.name)
	}
	t.Logf("%s: %d dispatch decisions and %d events matched", sc.name, decisions, len(hw))
}

func transName(n *ir.Net, kind, trans int) string {
	if kind == ResNone || trans >= len(n.Transitions) {
		return "-"
	}
	return n.Transitions[trans].Name
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
		t.Fatalf("testbench on %s: %v", path, err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 1+mod.Trans || !strings.HasSuffix(lines[0], " 1") {
		t.Fatalf("sample events: %d transitions, results %q", mod.Trans, out)
	}
}
