// This file tests the soundness gate's model (compiler/sound) against the
// engine's firing rules: on every program in the repository, the markings
// of a workflow that the engine can reach are the markings the explorer
// calls reachable, and the other way round (see compiler/sound/doc.go,
// "One semantics, tested twice").
//
// The engine is driven in its reproducible rounds mode through the
// scheduler (Engine.next, doneEvent), every data choice enumerated: each
// guard evaluated for an event may be true or false, any running call may
// complete next, any armed timer may come due and any awaited signal may
// arrive. Failures of calls and evaluation are left out, as the model
// leaves them out.

package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/compiler/sound"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/runtime/eval"
	"golang.org/x/tools/txtar"
)

// choiceEval answers each boolean evaluation from bits, in order, and
// counts how many were asked for, so that the driver can enumerate every
// outcome of an event; other values are made up from their types.
type choiceEval struct {
	a     *abstract
	bits  []bool
	asked int
}

func (c *choiceEval) Eval(_ context.Context, fn *ir.Func, _ Env) (eval.Value, error) {
	switch fn.Result {
	case ir.Bool:
		i := c.asked
		c.asked++
		return eval.Bool(i < len(c.bits) && c.bits[i]), nil
	case ir.Duration:
		// Timers never come due by themselves (the scheduler would
		// fire a due one first); the driver fires them in any order.
		return eval.Duration(time.Duration(1 << 60)), nil
	case ir.Time:
		return eval.TimeNanos(1 << 60), nil
	}
	return c.a.value(fn.Result), nil
}

func (c *choiceEval) Invoke(context.Context, Invocation) (eval.Value, error) {
	return eval.Value{}, nil
}

// maxChoiceBits bounds the booleans one event may depend on.
const maxChoiceBits = 8

// diffDriver explores the states of one case.
type diffDriver struct {
	e  *Engine
	m  *Machine
	ev *choiceEval
}

// outcomes returns every event make can produce as its booleans vary;
// evaluation failures are dropped.
func (d *diffDriver) outcomes(make func() (Event, bool)) []Event {
	var out []Event
	var rec func(bits []bool)
	rec = func(bits []bool) {
		d.ev.bits, d.ev.asked = bits, 0
		ev, ok := make()
		if !ok {
			return
		}
		if d.ev.asked > len(bits) && len(bits) < maxChoiceBits {
			rec(append(slices.Clone(bits), false))
			rec(append(slices.Clone(bits), true))
			return
		}
		if ev.Kind != EvFail {
			out = append(out, ev)
		}
	}
	rec(nil)
	return out
}

// successors returns the events that may follow in s: the scheduler's
// next event when it has one (the engine fires what is enabled before
// anything else happens), else any call completing, timer coming due or
// awaited signal arriving.
func (d *diffDriver) successors(s *State) []Event {
	ctx := context.Background()
	if s.Done() {
		return nil
	}
	if evs := d.outcomes(func() (Event, bool) { return d.e.next(ctx, s, s.Now) }); len(evs) > 0 {
		return evs
	}
	var out []Event
	// The calls of child frames (instances, sub-workflows) complete in
	// one order: the root's marking does not depend on how the
	// children's calls interleave with each other, only on when each
	// child ends relative to the root's own calls.
	child := false
	for _, v := range s.Invs {
		if root := s.Root(); v.Frame != root.ID {
			if child {
				continue
			}
			child = true
		}
		if v.Waiting {
			out = append(out, Event{Kind: EvRetry, Time: max(s.Now, v.Due), Inv: v.ID})
			continue
		}
		var result eval.Value
		if v.Call != nil && v.Call.Kind == ir.CallTask {
			if task := d.m.task(v.Call); task != nil {
				result = d.ev.a.value(task.Result)
			}
		}
		out = append(out, d.outcomes(func() (Event, bool) { return d.e.doneEvent(ctx, s, v, result, s.Now), true })...)
	}
	for _, tm := range s.Timers {
		f := s.frame(tm.Frame)
		if f == nil {
			continue
		}
		tr := &d.m.nets[f.Net].trans[tm.Trans]
		out = append(out, d.outcomes(func() (Event, bool) {
			outs, err := evaluator{d.m, d.ev}.outs(ctx, tr, &frameVars{m: d.m, s: s, f: f, over: -1})
			if err != nil {
				return Event{Kind: EvFail}, true
			}
			return Event{Kind: EvTimer, Time: s.Now, Frame: tm.Frame, Trans: tm.Trans, Outs: outs}, true
		})...)
	}
	sent := map[string]bool{}
	for _, f := range s.Frames {
		if !s.live(f) {
			continue
		}
		c := d.m.nets[f.Net]
		var names []string
		for _, ti := range c.waits {
			if d.m.enabled(s, f, c, ti) {
				names = append(names, c.trans[ti].t.Label)
			}
		}
		for _, g := range f.Groups {
			// More on: a few more instances, not an unbounded number.
			if t := c.trans[g.Trans].t; t.Kind == ir.TMulti && t.Label != "" && !g.Closed && !g.Joined && len(g.Items) < 4 {
				names = append(names, t.Label)
			}
		}
		for _, name := range names {
			if sent[name] {
				continue
			}
			sent[name] = true
			out = append(out, Event{Kind: EvSignal, Time: s.Now, Name: name, Values: d.payload(name)})
		}
	}
	return out
}

// payload makes up the payload of signal name.
func (d *diffDriver) payload(name string) []eval.Value {
	for _, n := range d.m.Prog.Nets {
		for _, sig := range n.Signals {
			if sig.Name == name {
				vs := make([]eval.Value, len(sig.Params))
				for k, p := range sig.Params {
					vs[k] = d.ev.a.value(p.Type)
				}
				return vs
			}
		}
	}
	return nil
}

// ended is the key of every marking of a case that has ended: the end
// reached, failed or cancelled. Both sides withdraw what is left then.
const ended = "ended"

// stateKey identifies s up to data: frames (by position), markings,
// groups, calls, timers and buffered signals.
func stateKey(s *State) string {
	b := make([]byte, 0, 256)
	num := func(x int64) { b = strconv.AppendInt(b, x, 10); b = append(b, ',') }
	flag := func(x bool) {
		if x {
			b = append(b, 'y')
		} else {
			b = append(b, 'n')
		}
	}
	pos := map[int32]int64{}
	for i, f := range s.Frames {
		pos[f.ID] = int64(i)
	}
	num(int64(s.Status))
	num(int64(s.Closing))
	num(int64(len(s.HookQ)))
	for _, f := range s.Frames {
		b = append(b, 'f')
		parent := int64(-1)
		if p, ok := pos[f.Parent]; ok {
			parent = p
		}
		num(int64(f.Net))
		num(parent)
		num(int64(f.Trans))
		for _, x := range f.Marking {
			num(int64(x))
		}
		for _, g := range f.Groups {
			b = append(b, 'g')
			num(int64(g.Trans))
			num(int64(len(g.Items)))
			num(int64(g.Next))
			num(int64(g.Running))
			num(int64(g.Done))
			flag(g.Joined)
			flag(g.Closed)
		}
	}
	for _, v := range s.Invs {
		b = append(b, 'i')
		num(pos[v.Frame])
		num(int64(v.Trans))
		flag(v.Comp)
		flag(v.Hook)
		flag(v.Waiting)
	}
	for _, t := range s.Timers {
		b = append(b, 't')
		num(pos[t.Frame])
		num(int64(t.Trans))
	}
	for _, r := range s.Inbox {
		b = append(b, 's')
		b = append(b, r.Name...)
	}
	return string(b)
}

// rootMarking is the marking of the root net in the model's terms: a
// call the engine has started but not finished still holds its input
// tokens there (the model fires a call as one step, when it completes).
// ok is false when that is ambiguous: a running call whose transition
// consumes one of several inputs.
func (d *diffDriver) rootMarking(s *State) (key string, ok bool) {
	root := s.Root()
	c := d.m.nets[root.Net]
	if s.Status != Running || s.Closing != Running || root.Marking[c.n.End] > 0 {
		return ended, true
	}
	m := make([]int32, len(root.Marking))
	copy(m, root.Marking)
	giveBack := func(ti int32) bool {
		tr := &c.trans[ti]
		if len(tr.in) > 1 && tr.t.Join != ir.JoinAnd {
			return false
		}
		for _, a := range tr.in {
			m[a.place] += a.weight
		}
		return true
	}
	for _, v := range s.Invs {
		if v.Frame == root.ID && !v.Comp && !v.Hook && v.Trans >= 0 && !giveBack(v.Trans) {
			return "", false
		}
	}
	for _, g := range root.Groups {
		if !g.Joined && !giveBack(g.Trans) {
			return "", false
		}
	}
	b := make([]byte, len(m))
	for i, x := range m {
		b[i] = byte(min(x, 255))
	}
	return string(b), true
}

// maxEngineStates bounds the engine's exploration of one case.
const maxEngineStates = 4000

// engineMarkings explores every run of a case of net ni and returns the
// root markings it reaches (model terms), the quiescent ones apart (no
// event but a call, timer or signal can follow); complete is false when
// the state cap was reached.
func (d *diffDriver) engineMarkings(t *testing.T, ni int) (all, quiet map[string]bool, complete bool) {
	n := d.m.Prog.Nets[ni]
	args := make([]eval.Value, len(n.Params))
	for k, p := range n.Params {
		args[k] = d.ev.a.value(p.Type)
	}
	start := &State{ID: "diff"}
	if err := d.m.Apply(start, &Event{Kind: EvStart, Trans: int32(ni), Values: args}); err != nil {
		t.Fatalf("%s: start: %v", n.Name, err)
	}
	all, quiet = map[string]bool{}, map[string]bool{}
	seen := map[string]bool{stateKey(start): true}
	queue := []*State{start}
	for len(queue) > 0 {
		if len(seen) > maxEngineStates {
			return all, quiet, false
		}
		s := queue[0]
		queue = queue[1:]
		key, ok := d.rootMarking(s)
		if ok {
			all[key] = true
		}
		ctx := context.Background()
		forced := d.outcomes(func() (Event, bool) { return d.e.next(ctx, s, s.Now) })
		if ok && len(forced) == 0 {
			quiet[key] = true
		}
		for _, ev := range d.successors(s) {
			x := s.Clone()
			if err := d.m.Apply(x, &ev); err != nil {
				t.Fatalf("%s: %s does not apply: %v", n.Name, ev.Kind, err)
			}
			if k := stateKey(x); !seen[k] {
				seen[k] = true
				queue = append(queue, x)
			}
		}
	}
	return all, quiet, true
}

// modelMarkings returns the markings the explorer reaches for net n, the
// stable ones apart: those in which the engine has nothing to fire at
// once (only calls, timers and signal waits are enabled).
func (d *diffDriver) modelMarkings(ni int) (all, stable map[string]bool, complete bool) {
	n := d.m.Prog.Nets[ni]
	marks, complete := sound.Reachable(n, &sound.Options{MaxStates: 50000})
	c := d.m.nets[ni]
	all, stable = map[string]bool{}, map[string]bool{}
	for _, mk := range marks {
		if mk[n.End] > 0 {
			all[ended] = true
			stable[ended] = true
			continue
		}
		all[string(mk)] = true
		f := &Frame{ID: 0, Net: int32(ni), Parent: -1, Marking: make([]int32, len(mk))}
		for i, x := range mk {
			f.Marking[i] = int32(x)
		}
		s := &State{Frames: []*Frame{f}}
		instant := false
		for _, ti := range c.order {
			switch c.trans[ti].t.Kind {
			case ir.TTask, ir.TKernel, ir.TWorkflow, ir.TMulti, ir.TRoute:
				continue
			}
			if d.m.enabled(s, f, c, ti) {
				instant = true
				break
			}
		}
		if !instant {
			stable[string(mk)] = true
		}
	}
	return all, stable, complete
}

// describeMarking names the marked places of key in net n.
func describeMarking(n *ir.Net, key string) string {
	if key == ended {
		return ended
	}
	var parts []string
	for i := 0; i < len(key); i++ {
		if x := key[i]; x != byte(n.Places[i].Init) {
			parts = append(parts, fmt.Sprintf("%s=%d", n.Places[i].Name, x))
		}
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// diffStats counts what a differential run compared.
type diffStats struct {
	nets, skipped, engineStates, modelStates int
	oneWay                                   int // nets with calls of sub-workflows or parallel for
}

// diffProgram compares the engine and the explorer on every startable
// workflow of prog and reports each disagreement.
func diffProgram(t *testing.T, name string, prog *ir.Program, st *diffStats) {
	t.Helper()
	ev := &choiceEval{a: &abstract{p: prog}}
	e, err := New(Config{Program: prog, Eval: ev, Worker: ev, Log: NewMemLog(), Rounds: true})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	d := &diffDriver{e: e, m: e.m, ev: ev}
	for ni, n := range prog.Nets {
		if n == nil || strings.Contains(n.Name, ".for_") || len(n.Params) > 0 && n.Params[0].Name == "" {
			continue
		}
		engAll, engQuiet, ok1 := d.engineMarkings(t, ni)
		modAll, modStable, ok2 := d.modelMarkings(ni)
		if !ok1 || !ok2 {
			t.Logf("workflow %s: too many states to compare (engine done: %v, explorer done: %v)", n.Name, ok1, ok2)
			st.skipped++
			continue
		}
		st.nets++
		st.engineStates += len(engAll)
		st.modelStates += len(modAll)
		var bad []string
		for k := range engAll {
			if !modAll[k] {
				bad = append(bad, "the engine reaches "+describeMarking(n, k)+", the explorer does not")
			}
		}
		// A sub-workflow or parallel for is one step in the model, which
		// checks its body on its own and so assumes it may take time and
		// complete; in the engine a body can end the whole case (fail,
		// cancel case) or finish within the step that starts it. For
		// nets that call one, only the first direction holds.
		compositional := false
		for _, tr := range n.Transitions {
			compositional = compositional || tr.Kind == ir.TWorkflow || tr.Kind == ir.TMulti
		}
		if compositional {
			st.oneWay++
			modStable = nil
		}
		for k := range modStable {
			if !engQuiet[k] && !engAll[k] {
				bad = append(bad, "the explorer reaches "+describeMarking(n, k)+", the engine does not")
			}
		}
		sort.Strings(bad)
		for i, b := range bad {
			if i == 5 {
				t.Errorf("%s: workflow %s: and %d more", name, n.Name, len(bad)-5)
				break
			}
			t.Errorf("%s: workflow %s: %s", name, n.Name, b)
		}
	}
}

// repositoryPrograms returns the programs of the repository: the
// patterns, the examples and the compiler's golden inputs, by name, with
// a function that reads a file of each.
func repositoryPrograms(t *testing.T) map[string]func(string) ([]byte, error) {
	out := map[string]func(string) ([]byte, error){}
	for _, pat := range []string{"../../testdata/patterns/*.knhk", "../../examples/*.knhk"} {
		paths, _ := filepath.Glob(pat)
		for _, p := range paths {
			out[p] = os.ReadFile
		}
	}
	goldens, _ := filepath.Glob("../../compiler/testdata/*.txtar")
	for _, p := range goldens {
		ar, err := txtar.ParseFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[p+"/in.knhk"] = func(path string) ([]byte, error) {
			for _, f := range ar.Files {
				if f.Name == filepath.Base(path) {
					return f.Data, nil
				}
			}
			return nil, os.ErrNotExist
		}
	}
	if len(out) < 20 {
		t.Fatalf("only %d programs found", len(out))
	}
	return out
}

// TestSoundMatchesEngine runs the differential test on every program in
// the repository.
func TestSoundMatchesEngine(t *testing.T) {
	var st diffStats
	progs := repositoryPrograms(t)
	names := make([]string, 0, len(progs))
	for name := range progs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		read := progs[name]
		path := name
		if strings.Contains(name, ".txtar/") {
			path = "in.knhk"
		}
		t.Run(filepath.Base(strings.TrimSuffix(name, "/in.knhk")), func(t *testing.T) {
			pkg, info, diags := check.Load(path, &check.Config{ReadFile: read})
			if diags.HasErrors() {
				t.Fatalf("does not check: %v", diags.Err())
			}
			// Unsound programs are compared too: the gate rejects them
			// on the markings both sides must agree on.
			b, _ := compiler.Gate(pkg, info, nil)
			if b.Program == nil {
				t.Skip("does not lower")
			}
			diffProgram(t, name, b.Program, &st)
		})
	}
	t.Logf("%d workflows compared (%d engine markings, %d model markings; %d in one direction only), %d too large", st.nets, st.engineStates, st.modelStates, st.oneWay, st.skipped)
	if st.nets < 50 {
		t.Errorf("only %d workflows compared", st.nets)
	}
}
