// This file implements the pattern test runner: it parses the .trace
// scenario files, drives each scenario through check, Lower and the
// engine, and renders the case's event log as a canonical trace.

package patterns

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/format"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/worker"
)

const dir = "../../testdata/patterns"

// scenario is one run of a pattern program: the actions that drive it and
// the traces it may produce (several when the pattern allows several
// orders).
type scenario struct {
	name    string
	line    int
	actions []string
	traces  [][]string
}

// parseTrace reads a .trace file:
//
//	=== NAME           starts a scenario
//	start W [json]     starts the case (arguments as a JSON array)
//	signal S [json]    delivers a signal (payload as a JSON array)
//	advance 90s        moves the fake clock and runs what is due
//	--- trace          the trace the scenario must produce follows
//	--- or             an alternative trace it may produce instead
//
// Lines starting with # and blank lines are ignored.
func parseTrace(path string) ([]*scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []*scenario
	var cur *scenario
	inTrace := false
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "=== "):
			cur = &scenario{name: strings.TrimSpace(l[4:]), line: n}
			out = append(out, cur)
			inTrace = false
		case cur == nil:
			return nil, fmt.Errorf("%s:%d: %q before the first === scenario", path, n, l)
		case l == "--- trace" || l == "--- or":
			if (l == "--- or") != (len(cur.traces) > 0) {
				return nil, fmt.Errorf("%s:%d: --- or needs a --- trace before it, and --- trace may appear once", path, n)
			}
			cur.traces = append(cur.traces, []string{})
			inTrace = true
		case inTrace:
			cur.traces[len(cur.traces)-1] = append(cur.traces[len(cur.traces)-1], l)
		default:
			cur.actions = append(cur.actions, l)
		}
	}
	for _, s := range out {
		if len(s.traces) == 0 {
			return nil, fmt.Errorf("%s:%d: scenario %s has no --- trace", path, s.line, s.name)
		}
	}
	return out, sc.Err()
}

// clock is the fake case clock; extern task tick(d) advances it, which
// models work that takes time.
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

// registry binds every extern task of p to an echo function: the result
// is the first argument of the result's kind (so a program steers its own
// choices), else true, 0 or the task's name. The symbol tick advances the
// clock by its duration argument first (work that takes time); the symbol
// inc returns its int argument plus one (a counter for loops); the symbol
// third returns false until its third call (a rework loop).
func registry(p *ir.Program, clk *clock) *worker.Registry {
	r := worker.NewRegistry()
	var mu sync.Mutex
	calls := 0
	for _, t := range p.Tasks {
		if t == nil || t.Binding.Kind != ir.BindExtern {
			continue
		}
		r.Register(t.Binding.Target, func(_ context.Context, c worker.Call) (eval.Value, error) {
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

func compile(t *testing.T, path string) *ir.Program {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pkg, info, diags := check.CheckSource(path, src, &check.Config{})
	if len(diags) > 0 {
		t.Fatalf("check (errors and warnings both count): %v", diags)
	}
	// The gate of knhk check and knhk run: a pattern that a user could
	// not run fails here, warnings included.
	p, ld := compiler.Build(pkg, info)
	if len(ld) > 0 {
		t.Fatalf("knhk check rejects it (errors and warnings both count): %v", ld)
	}
	return p
}

// run plays sc's actions and returns the trace of the case.
func run(t *testing.T, p *ir.Program, sc *scenario) []string {
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
	var marks []mark // action lines, placed after the events before them
	for _, a := range sc.actions {
		verb, rest, _ := strings.Cut(a, " ")
		switch verb {
		case "start", "signal":
			name, js, _ := strings.Cut(strings.TrimSpace(rest), " ")
			vals, err := host.JSONArgs(p, verb == "start", name, js)
			if err != nil {
				t.Fatalf("action %q: %v", a, err)
			}
			if verb == "start" {
				err = eng.Start(ctx, id, name, vals)
			} else {
				err = eng.Signal(ctx, id, name, vals)
			}
			if err != nil {
				t.Fatalf("action %q: %v", a, err)
			}
		case "advance":
			d, err := time.ParseDuration(strings.TrimSpace(rest))
			if err != nil {
				t.Fatalf("action %q: %v", a, err)
			}
			marks = append(marks, mark{len(log.Events(id)), "advance " + strings.TrimSpace(rest)})
			clk.advance(d)
			if err := eng.Run(ctx, id); err != nil {
				t.Fatalf("action %q: %v", a, err)
			}
		default:
			t.Fatalf("unknown action %q", a)
		}
	}
	s, err := eng.Snapshot(id)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := render(eng.Machine(), log.Events(id), marks)
	if err != nil {
		t.Fatal(err)
	}
	return append(tr, status(s))
}

type mark struct {
	at   int
	text string
}

// render replays events on a shadow state and writes one line per
// observable step: task calls and their completions or failures,
// compensations started, calls withdrawn by a cancellation, signals (received, buffered or dropped),
// timers, hooks and case-level cancellation.
func render(m *engine.Machine, evs []engine.Event, marks []mark) ([]string, error) {
	var out []string
	s := &engine.State{ID: "shadow"}
	for i := range evs {
		for len(marks) > 0 && marks[0].at == i {
			out = append(out, marks[0].text)
			marks = marks[1:]
		}
		e := &evs[i]
		before := map[int32]string{}
		for _, v := range s.Invs {
			before[v.ID] = callName(m.Prog, v.Call)
		}
		inbox := len(s.Inbox)
		frames := s.Clone().Frames
		var tr *ir.Transition
		if e.Kind == engine.EvFire || e.Kind == engine.EvTimer {
			for _, f := range s.Frames {
				if f.ID == e.Frame {
					tr = m.Prog.Nets[f.Net].Transitions[e.Trans]
				}
			}
		}
		if err := m.Apply(s, e); err != nil {
			return nil, fmt.Errorf("event %d (%v): %v", i, e.Kind, err)
		}
		switch e.Kind {
		case engine.EvFire:
			switch {
			case tr == nil:
			case tr.Kind == ir.TTask:
				out = append(out, "call "+callName(m.Prog, tr.Call)+args(e.Values))
			case tr.Kind == ir.TSignal:
				out = append(out, "receive "+tr.Label)
			case tr.Kind == ir.TSend:
				out = append(out, sendLine(m.Prog, tr, e, frames, inbox, s))
			}
		case engine.EvDone:
			l := "done " + before[e.Inv]
			if len(e.Values) > 0 && eval.Plain(e.Values[0]) != nil {
				l += " = " + js(eval.Plain(e.Values[0]))
			}
			out = append(out, l)
		case engine.EvFailed:
			out = append(out, "failed "+before[e.Inv]+": "+e.Message)
		case engine.EvTimer:
			out = append(out, "timer")
		case engine.EvSignal:
			switch {
			case len(s.Inbox) > inbox:
				out = append(out, "signal "+e.Name+" buffered")
			case reflect.DeepEqual(frames, s.Frames):
				out = append(out, "signal "+e.Name+" dropped")
			default:
				out = append(out, "signal "+e.Name+" received")
			}
		case engine.EvCancel:
			out = append(out, "cancel case")
		case engine.EvHook:
			out = append(out, hookLine(m.Prog, s, e))
		}
		for _, v := range s.Invs {
			if _, ok := before[v.ID]; !ok && v.Comp {
				out = append(out, "undo "+callName(m.Prog, v.Call)+args(v.Args))
			}
		}
		for _, id := range slices.Sorted(maps.Keys(before)) {
			if e.Kind == engine.EvDone && id == e.Inv || e.Kind == engine.EvFailed && id == e.Inv {
				continue
			}
			found := false
			for _, v := range s.Invs {
				found = found || v.ID == id
			}
			if !found {
				out = append(out, "withdraw "+before[id])
			}
		}
	}
	for _, mk := range marks {
		out = append(out, mk.text)
	}
	return out, nil
}

// hookLine renders an EvHook: the hook and the task call it starts (a
// workflow action's calls follow as calls of their own), or why it did
// not start one.
func hookLine(p *ir.Program, s *engine.State, e *engine.Event) string {
	var h *ir.Hook
	if n := p.Nets[s.Net]; e.Trans >= 0 && int(e.Trans) < len(n.Hooks) {
		h = n.Hooks[e.Trans]
	}
	if h == nil {
		return "hook ?"
	}
	switch {
	case e.Message != "":
		return "hook " + h.Name + " failed: " + e.Message
	case e.Choice == 0:
		return "hook " + h.Name + " skipped"
	case h.Action.Kind == ir.CallTask:
		return "hook " + h.Name + ": call " + callName(p, h.Action) + args(e.Values)
	}
	return "hook " + h.Name
}

func callName(p *ir.Program, c *ir.Call) string {
	if c == nil {
		return "?"
	}
	switch c.Kind {
	case ir.CallTask:
		if c.Target >= 0 && int(c.Target) < len(p.Tasks) {
			return p.Tasks[c.Target].Name
		}
	case ir.CallWorkflow:
		if c.Target >= 0 && int(c.Target) < len(p.Nets) {
			return p.Nets[c.Target].Name
		}
	case ir.CallKernel:
		if c.Target >= 0 && int(c.Target) < len(p.Kernels) {
			return p.Kernels[c.Target].Name
		}
	}
	return "?"
}

func args(vs []eval.Value) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = js(eval.Plain(v))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func js(v any) string {
	switch x := v.(type) {
	case time.Duration:
		return x.String()
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func status(s *engine.State) string {
	switch s.Status {
	case engine.Completed:
		if eval.Plain(s.Result) == nil {
			return "completed"
		}
		return "completed = " + js(eval.Plain(s.Result))
	case engine.Failed:
		return "failed: " + s.Error
	}
	return strings.ToLower(s.Status.String())
}

// TestPatterns runs every scenario of every pattern program. With
// KNHK_UPDATE=1 a scenario whose trace matches none of the allowed ones
// has its first trace rewritten (the alternatives are kept) — review the
// diff by hand against the pattern's definition.
func TestPatterns(t *testing.T) {
	progs, err := filepath.Glob(filepath.Join(dir, "wcp*.knhk"))
	if err != nil {
		t.Fatal(err)
	}
	if len(progs) == 0 {
		t.Fatal("no pattern programs found")
	}
	for _, prog := range progs {
		base := strings.TrimSuffix(filepath.Base(prog), ".knhk")
		t.Run(base, func(t *testing.T) {
			p := compile(t, prog)
			tracePath := strings.TrimSuffix(prog, ".knhk") + ".trace"
			scs, err := parseTrace(tracePath)
			if err != nil {
				t.Fatal(err)
			}
			for _, sc := range scs {
				t.Run(sc.name, func(t *testing.T) {
					got := run(t, p, sc)
					for _, want := range sc.traces {
						if slices.Equal(got, want) {
							return
						}
					}
					if os.Getenv("KNHK_UPDATE") == "1" {
						update(t, tracePath, sc, got)
						return
					}
					t.Errorf("%s:%d: trace\n\t%s\nmatches none of the %d allowed; the first is\n\t%s",
						tracePath, sc.line, strings.Join(got, "\n\t"), len(sc.traces), strings.Join(sc.traces[0], "\n\t"))
				})
			}
		})
	}
}

// update replaces the first trace of sc in path with got.
func update(t *testing.T, path string, sc *scenario, got []string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	// Find the scenario by name: an earlier update in this run may have
	// moved it since the file was parsed.
	i := slices.IndexFunc(lines, func(l string) bool { return strings.TrimSpace(l) == "=== "+sc.name })
	if i < 0 {
		t.Fatalf("scenario %s vanished from %s", sc.name, path)
	}
	for i < len(lines) && strings.TrimSpace(lines[i]) != "--- trace" {
		i++
	}
	j := i + 1
	for j < len(lines) {
		l := strings.TrimSpace(lines[j])
		if l == "--- or" || strings.HasPrefix(l, "=== ") {
			break
		}
		j++
	}
	repl := append([]string{"--- trace"}, got...)
	repl = append(repl, "")
	lines = slices.Concat(lines[:i], repl, lines[j:])
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("rewrote the trace of %s in %s", sc.name, path)
}

// TestParseTrace pins the .trace format: scenarios, their actions, the
// first trace and its alternatives, and the malformed files it rejects.
func TestParseTrace(t *testing.T) {
	d := t.TempDir()
	write := func(text string) string {
		p := filepath.Join(d, "x.trace")
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	scs, err := parseTrace(write("# c\n=== one\nstart W [1]\nadvance 1h\n--- trace\ncall a()\ncompleted\n--- or\nfailed: x\n\n=== two\nstart W []\n--- trace\ncompleted\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(scs) != 2 || scs[0].name != "one" || scs[1].name != "two" {
		t.Fatalf("scenarios %+v", scs)
	}
	if !slices.Equal(scs[0].actions, []string{"start W [1]", "advance 1h"}) {
		t.Errorf("actions %q", scs[0].actions)
	}
	if len(scs[0].traces) != 2 || !slices.Equal(scs[0].traces[0], []string{"call a()", "completed"}) ||
		!slices.Equal(scs[0].traces[1], []string{"failed: x"}) {
		t.Errorf("traces %q", scs[0].traces)
	}
	for _, bad := range []string{
		"start W []\n",                        // an action before any scenario
		"=== a\nstart W []\n",                 // no trace
		"=== a\n--- or\ncompleted\n",          // an alternative without a first trace
		"=== a\n--- trace\nx\n--- trace\ny\n", // two first traces
	} {
		if _, err := parseTrace(write(bad)); err == nil {
			t.Errorf("parseTrace accepted %q", bad)
		}
	}
}

// TestProgramsFormatted keeps the pattern programs in `knhk fmt` layout:
// docs/patterns.md points readers at them.
func TestProgramsFormatted(t *testing.T) {
	progs, err := filepath.Glob(filepath.Join(dir, "*.knhk"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range progs {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out, diags := format.Bytes(p, src)
		if diags.HasErrors() {
			t.Errorf("%s: %v", p, diags)
		} else if string(out) != string(src) {
			t.Errorf("%s is not formatted: run knhk fmt -w %s", p, p)
		}
	}
}
