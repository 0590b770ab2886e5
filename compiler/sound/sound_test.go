package sound

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/source"
)

// netCase builds a net with the ir builders.
type netCase struct {
	name  string
	build func(b *ir.NetBuilder)
	// want lists the problem kinds expected, in report order; empty means
	// sound.
	want []Kind
}

func build(name string, f func(b *ir.NetBuilder)) (*ir.Program, *ir.Net) {
	p := ir.NewProgram("test")
	b := p.NewNet(name, ir.Void)
	f(b)
	guardSplits(b)
	return p, b.N
}

// guardSplits gives every output arc of an XOR or OR split a condition
// (the analysis ignores what it computes), as the lowering does.
func guardSplits(b *ir.NetBuilder) {
	g := ir.NoFunc
	for _, a := range b.N.Arcs {
		if !a.Out || a.Guard != ir.NoFunc || b.N.Transitions[a.Trans].Split == ir.SplitAnd {
			continue
		}
		if g == ir.NoFunc {
			fb := b.Func("cond", ir.Bool)
			fb.Return(fb.Bool(true))
			g = b.Program().AddFunc(fb.F)
		}
		a.Guard = g
	}
}

// par adds an AND split from `from` into branches, one task per branch,
// and returns the places after each task.
func par(b *ir.NetBuilder, from int32, names ...string) []int32 {
	split := b.Trans("split", ir.TNop)
	b.In(from, split)
	var outs []int32
	for _, name := range names {
		p, q := b.Place(name), b.Place(name+".done")
		b.Out(split, p)
		b.Step(name, ir.TNop, p, q)
		outs = append(outs, q)
	}
	return outs
}

func join(b *ir.NetBuilder, name string, kind ir.JoinKind, ins []int32, to int32) int32 {
	j := b.Trans(name, ir.TNop)
	b.T(j).Join = kind
	for _, p := range ins {
		b.In(p, j)
	}
	b.Out(j, to)
	return j
}

var cases = []netCase{
	{"sequence", func(b *ir.NetBuilder) {
		b.Seq(b.N.Start, b.N.End, "a", "b", "c")
	}, nil},
	{"and split and join", func(b *ir.NetBuilder) {
		join(b, "join", ir.JoinAnd, par(b, b.N.Start, "a", "b", "c"), b.N.End)
	}, nil},
	{"xor split into and join", func(b *ir.NetBuilder) {
		outs := par(b, b.N.Start, "a", "b")
		b.T(0).Split = ir.SplitXor
		join(b, "join", ir.JoinAnd, outs, b.N.End)
	}, []Kind{Deadlock}}, // the join behind the deadlock is not listed too,
	{"or split into or join", func(b *ir.NetBuilder) {
		outs := par(b, b.N.Start, "a", "b", "c")
		b.T(0).Split = ir.SplitOr
		join(b, "join", ir.JoinOr, outs, b.N.End)
	}, nil},
	{"or split into and join", func(b *ir.NetBuilder) {
		outs := par(b, b.N.Start, "a", "b")
		b.T(0).Split = ir.SplitOr
		join(b, "join", ir.JoinAnd, outs, b.N.End)
	}, []Kind{Deadlock}},
	{"or join after nested or split", func(b *ir.NetBuilder) {
		// An OR split whose first branch is itself a sequence of two
		// steps: the OR join must wait for it.
		outs := par(b, b.N.Start, "a", "b")
		b.T(0).Split = ir.SplitOr
		mid := b.Place("a2")
		b.Step("a2", ir.TNop, outs[0], mid)
		join(b, "join", ir.JoinOr, []int32{mid, outs[1]}, b.N.End)
	}, nil},
	{"loop with xor", func(b *ir.NetBuilder) {
		p1, p2 := b.Place("p1"), b.Place("p2")
		b.Step("draft", ir.TNop, b.N.Start, p1)
		b.Step("check", ir.TNop, p1, p2)
		c := b.Trans("decide", ir.TNop)
		b.T(c).Split = ir.SplitXor
		b.In(p2, c)
		b.Out(c, p1)
		b.Out(c, b.N.End)
	}, nil},
	{"dead transition", func(b *ir.NetBuilder) {
		b.Seq(b.N.Start, b.N.End, "a")
		q := b.Place("never")
		b.Step("ghost", ir.TNop, q, b.N.End)
	}, []Kind{DeadTransition}},
	{"and split into xor join", func(b *ir.NetBuilder) {
		split := b.Trans("split", ir.TNop)
		b.In(b.N.Start, split)
		p1, p2 := b.Place("p1"), b.Place("p2")
		b.Out(split, p1)
		b.Out(split, p2)
		join(b, "merge", ir.JoinXor, []int32{p1, p2}, b.N.End)
	}, []Kind{LeftoverTokens}},
	{"cancelling discriminator", func(b *ir.NetBuilder) {
		outs := par(b, b.N.Start, "a", "b", "c")
		j := join(b, "first", ir.JoinPartial, outs, b.N.End)
		b.T(j).JoinN = 1
		var region []int32
		for i := range b.N.Places[2:] {
			region = append(region, int32(i+2))
		}
		b.T(j).Cancel, b.T(j).Region = ir.CancelRegion, b.Region("branches", region, nil)
	}, nil},
	{"non-cancelling partial join", func(b *ir.NetBuilder) {
		j := join(b, "two", ir.JoinPartial, par(b, b.N.Start, "a", "b", "c"), b.N.End)
		b.T(j).JoinN = 2
	}, []Kind{LeftoverTokens}},
	{"drain after multi-merge", func(b *ir.NetBuilder) {
		// Two threads reach the flow's end place one after the other; the
		// drain waits for both and ends the flow once.
		outs := par(b, b.N.Start, "a", "b")
		fend := b.Place("flow_end")
		for _, o := range outs {
			b.Step("to_end", ir.TNop, o, fend)
		}
		d := join(b, "drain", ir.JoinDrain, []int32{fend}, b.N.End)
		var region []int32
		for i := range b.N.Places {
			if p := int32(i); p != b.N.Start && p != b.N.End && p != fend {
				region = append(region, p)
			}
		}
		b.T(d).Region = b.Region("flow", region, nil)
	}, nil},
	{"drain blind to a thread", func(b *ir.NetBuilder) {
		// The region misses b's places: the drain may end the flow while
		// b still runs.
		outs := par(b, b.N.Start, "a", "b")
		fend := b.Place("flow_end")
		for _, o := range outs {
			b.Step("to_end", ir.TNop, o, fend)
		}
		d := join(b, "drain", ir.JoinDrain, []int32{fend}, b.N.End)
		b.T(d).Region = b.Region("flow", []int32{2, 3}, nil)
	}, []Kind{LeftoverTokens}},
	{"cancel case from a branch", func(b *ir.NetBuilder) {
		outs := par(b, b.N.Start, "a", "b")
		f := b.Trans("fail", ir.TNop)
		b.In(outs[0], f)
		b.Out(f, b.N.End)
		b.T(f).Cancel = ir.CancelCase
		b.Step("drop", ir.TNop, outs[1], b.Place("sink"))
	}, nil},
	{"deferred choice", func(b *ir.NetBuilder) {
		p := b.Place("waiting")
		b.Step("enter", ir.TNop, b.N.Start, p)
		b.N.Signals = append(b.N.Signals, &ir.Signal{Name: "Go", Loc: ir.NoLoc})
		s := b.Step("on signal", ir.TSignal, p, b.N.End)
		b.T(s).Label = "Go"
		fb := b.Func("d", ir.Duration)
		fb.Return(fb.Const(ir.Duration, ir.Const{Kind: ir.ConstInt, Int: 5}))
		tm := b.Step("on timer", ir.TTimer, p, b.N.End)
		b.T(tm).Value = b.Program().AddFunc(fb.F)
	}, nil},
	{"critical section", func(b *ir.NetBuilder) {
		mutex := b.Place("mutex")
		b.N.Places[mutex].Init = 1
		outs := par(b, b.N.Start, "a", "b")
		var done []int32
		for i, p := range outs {
			in, out := b.Place(fmt.Sprintf("in%d", i)), b.Place(fmt.Sprintf("out%d", i))
			enter := b.Step(fmt.Sprintf("enter%d", i), ir.TMarker, p, in)
			b.In(mutex, enter)
			b.T(enter).Marker, b.T(enter).Label = ir.MarkCriticalEnter, "site"
			exit := b.Step(fmt.Sprintf("exit%d", i), ir.TMarker, in, out)
			b.T(exit).Marker, b.T(exit).Label = ir.MarkCriticalExit, "site"
			b.Out(exit, mutex)
			done = append(done, out)
		}
		join(b, "join", ir.JoinAnd, done, b.N.End)
	}, nil},
	{"critical section never left", func(b *ir.NetBuilder) {
		mutex := b.Place("mutex")
		b.N.Places[mutex].Init = 1
		in := b.Place("inside")
		enter := b.Step("enter", ir.TMarker, b.N.Start, in)
		b.In(mutex, enter)
		b.T(enter).Marker, b.T(enter).Label = ir.MarkCriticalEnter, "site"
		leave := b.Step("leave without unlock", ir.TMarker, in, b.N.End)
		b.T(leave).Marker, b.T(leave).Label = ir.MarkCriticalExit, "site"
	}, []Kind{LeftoverTokens}},
	{"livelock", func(b *ir.NetBuilder) {
		p1, p2, p3 := b.Place("p1"), b.Place("p2"), b.Place("p3")
		b.Step("a", ir.TNop, b.N.Start, p1)
		c := b.Trans("choose", ir.TNop)
		b.T(c).Split = ir.SplitXor
		b.In(p1, c)
		b.Out(c, b.N.End)
		b.Out(c, p2)
		b.Step("b", ir.TNop, p2, p3)
		b.Step("c", ir.TNop, p3, p2)
	}, []Kind{Livelock}},
	{"unbounded", func(b *ir.NetBuilder) {
		p, q := b.Place("p"), b.Place("q")
		b.Step("a", ir.TNop, b.N.Start, p)
		g := b.Step("grow", ir.TNop, p, p)
		b.Out(g, q)
		stop := b.Trans("stop", ir.TNop)
		b.In(p, stop)
		b.Out(stop, b.N.End)
	}, []Kind{LeftoverTokens, Unbounded}},
}

func kinds(r *Report) []Kind {
	var ks []Kind
	for _, p := range r.Problems {
		ks = append(ks, p.Kind)
	}
	return ks
}

func TestCases(t *testing.T) {
	for _, c := range cases {
		for _, reduce := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/reduce=%v", c.name, reduce), func(t *testing.T) {
				p, n := build(c.name, c.build)
				if err := p.Verify(); err != nil {
					t.Fatalf("test net does not verify: %v", err)
				}
				r := Check(n, &Options{AllOrders: true, NoReduce: !reduce})
				got := kinds(r)
				if !slices.Equal(got, c.want) {
					var msgs []string
					for _, p := range r.Problems {
						msgs = append(msgs, p.Message)
					}
					t.Fatalf("problems %v, want %v:\n%s", got, c.want, strings.Join(msgs, "\n"))
				}
				if r.Sound != (len(c.want) == 0) {
					t.Fatalf("Sound = %v with problems %v", r.Sound, got)
				}
				for _, p := range r.Problems {
					if p.Message == "" || p.Message != strings.ToLower(p.Message[:1])+p.Message[1:] {
						t.Errorf("bad message %q", p.Message)
					}
				}
			})
		}
	}
}

func find(t *testing.T, r *Report, k Kind) *Problem {
	t.Helper()
	for i := range r.Problems {
		if r.Problems[i].Kind == k {
			return &r.Problems[i]
		}
	}
	t.Fatalf("no %s problem in %v", k, kinds(r))
	return nil
}

func caseNamed(name string) netCase {
	for _, c := range cases {
		if c.name == name {
			return c
		}
	}
	panic(name)
}

func TestShortestTraces(t *testing.T) {
	for _, tc := range []struct {
		net    string
		kind   Kind
		trace  string
		tokens string
	}{
		{"xor split into and join", Deadlock, "split → a", "a.done"},
		{"or split into and join", Deadlock, "split → a", "a.done"},
		{"and split into xor join", LeftoverTokens, "split → merge", "end, p2"},
		{"critical section never left", LeftoverTokens, "enter → leave without unlock", "end, mutex (0 of 1)"},
		{"unbounded", Unbounded, "a → grow ×33", "p, q×32"},
		{"non-cancelling partial join", LeftoverTokens, "split → a → b → two", "end, c"},
	} {
		for _, reduce := range []bool{true, false} {
			_, n := build(tc.net, caseNamed(tc.net).build)
			r := Check(n, &Options{AllOrders: true, NoReduce: !reduce})
			p := find(t, r, tc.kind)
			if got := p.TraceString(); got != tc.trace {
				t.Errorf("%s (reduce=%v): trace %q, want %q", tc.net, reduce, got, tc.trace)
			}
			if got := strings.Join(p.Tokens, ", "); got != tc.tokens {
				t.Errorf("%s (reduce=%v): tokens %q, want %q", tc.net, reduce, got, tc.tokens)
			}
		}
	}
}

func TestLivelockTrace(t *testing.T) {
	for _, reduce := range []bool{true, false} {
		_, n := build("livelock", caseNamed("livelock").build)
		p := find(t, Check(n, &Options{AllOrders: true, NoReduce: !reduce}), Livelock)
		if !strings.HasPrefix(p.TraceString(), "a → choose") || len(p.Tokens) != 1 || p.Tokens[0] != "p2" && p.Tokens[0] != "p3" {
			t.Errorf("reduce=%v: trace %q, tokens %v", reduce, p.TraceString(), p.Tokens)
		}
	}
}

func TestDeadTransitionPointsAtIt(t *testing.T) {
	_, n := build("dead", caseNamed("dead transition").build)
	n.Transitions[1].Loc = ir.Loc{File: 0, Span: spanOf(10, 20)}
	r := Check(n, nil)
	p := find(t, r, DeadTransition)
	if p.Transition != 1 || p.Loc != n.Transitions[1].Loc || len(p.Trace) != 0 {
		t.Fatalf("got %+v", p)
	}
	if want := "transition ghost of workflow dead can never fire"; p.Message != want {
		t.Fatalf("message %q, want %q", p.Message, want)
	}
}

func TestStateCap(t *testing.T) {
	_, n := build("wide", func(b *ir.NetBuilder) {
		names := make([]string, 12)
		for i := range names {
			names[i] = fmt.Sprintf("t%d", i)
		}
		join(b, "join", ir.JoinAnd, par(b, b.N.Start, names...), b.N.End)
	})
	r := Check(n, &Options{AllOrders: true, NoReduce: true, MaxStates: 100})
	if r.Complete || r.Sound || r.HasErrors() {
		t.Fatalf("complete=%v sound=%v errors=%v", r.Complete, r.Sound, r.HasErrors())
	}
	p := find(t, r, Incomplete)
	if want := "could not prove workflow wide sound within 100 states"; p.Message != want {
		t.Fatalf("message %q", p.Message)
	}
	if len(r.Problems) != 1 {
		t.Fatalf("problems %v: a capped run must not claim dead transitions", kinds(r))
	}
	// The reduction proves the same net with a handful of states, and the
	// full exploration agrees given room: 2^12 interleavings plus ends.
	red := Check(n, &Options{AllOrders: true, MaxStates: 100})
	full := Check(n, &Options{AllOrders: true, NoReduce: true})
	if !red.Sound || !full.Sound {
		t.Fatalf("reduced sound=%v, full sound=%v", red.Sound, full.Sound)
	}
	if red.States >= 10 || full.States != 1<<12+2 {
		t.Fatalf("states: reduced %d, full %d", red.States, full.States)
	}
	if !strings.Contains(full.Summary(), "workflow wide: sound, 4098 states") {
		t.Fatalf("summary %q", full.Summary())
	}
}

func TestCheckProgram(t *testing.T) {
	p, _ := build("first", caseNamed("sequence").build)
	b := p.NewNet("second", ir.Void)
	caseNamed("xor split into and join").build(b)
	guardSplits(b)
	rs := CheckProgram(p, nil)
	if len(rs) != 2 || !rs[0].Sound || rs[1].Sound || rs[1].Net != "second" {
		t.Fatalf("reports %+v", rs)
	}
}

func TestDiagnostics(t *testing.T) {
	_, n := build("xor", caseNamed("xor split into and join").build)
	src := source.NewFile("x.knhk", []byte("workflow xor {\n  choose {}\n}\n"))
	for i, tr := range n.Transitions {
		tr.Loc = ir.Loc{File: 0, Span: spanOf(i, i+1)}
	}
	r := Check(n, nil)
	ds := r.Diagnostics(func(int32) *source.File { return src }, source.Code(500))
	if len(ds) != 1 || !ds.HasErrors() {
		t.Fatalf("diagnostics %v", ds)
	}
	d := ds[0]
	if d.File != src || d.Span != spanOf(1, 2) || len(d.Related) != 2 || d.Related[1].Message != "step 2: `o`" {
		t.Fatalf("diagnostic %+v", d)
	}
	capped := Check(fanOut(12), &Options{AllOrders: true, NoReduce: true, MaxStates: 10})
	ws := capped.Diagnostics(func(int32) *source.File { return nil }, 0)
	if len(ws) != 1 || ws.HasErrors() || ws[0].Severity != source.Warning {
		t.Fatalf("capped diagnostics %v", ws)
	}
}

// TestMessagesInSourceTerms: a diagnostic names statements and lines,
// never places or transitions, and points at what is left behind rather
// than at the end of the workflow.
func TestMessagesInSourceTerms(t *testing.T) {
	_, n := build("w", caseNamed("and split into xor join").build)
	src := source.NewFile("x.knhk", []byte("workflow w {\n  parallel {\n    a()\n  }\n}\n"))
	spans := map[string]source.Span{
		"split": spanOf(15, 37), // parallel { … }
		"merge": spanOf(15, 37),
		"end":   spanOf(38, 39),
	}
	for _, tr := range n.Transitions {
		if sp, ok := spans[tr.Name]; ok {
			tr.Loc = ir.Loc{Span: sp}
		}
	}
	n.Transitions[1].Name = "merge_2"
	ds := Check(n, nil).Diagnostics(func(int32) *source.File { return src }, source.Unsound)
	if len(ds) != 1 {
		t.Fatalf("diagnostics %v", ds)
	}
	d := ds[0]
	want := "workflow w can end while work is left behind: after `parallel {` (line 2), the join of `parallel {` (line 2), the workflow ends, but the join of `parallel {` (line 2) still waits to run (nothing joins it)"
	if d.Message != want {
		t.Errorf("message\n%s\nwant\n%s", d.Message, want)
	}
	if d.Span != spans["merge"] {
		t.Errorf("points at %v, want the join at %v", d.Span, spans["merge"])
	}
	if len(d.Related) != 2 || d.Related[1].Message != "step 2: the join of `parallel {`" {
		t.Errorf("related %+v", d.Related)
	}
}
