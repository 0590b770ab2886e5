// This file implements the breadth-first exploration of a net's state
// space.

package sound

import (
	"fmt"
	"strings"
	"time"

	"github.com/knhk/knhk/compiler/ir"
)

// Options bound the exploration. The zero value uses the defaults.
type Options struct {
	// MaxStates caps the number of distinct states (default
	// DefaultMaxStates); reaching it yields an Incomplete warning.
	MaxStates int
	// TokenBound is the most tokens a place may hold (default
	// DefaultTokenBound, at most 200); more is reported as Unbounded.
	TokenBound int
	// NoReduce switches off the eager firing of independent steps, so
	// that every interleaving is stored (for tests and comparisons).
	NoReduce bool
	// AllOrders explores every order of the transitions that the engine
	// fires at once, in its own fixed order (see doc.go): the plain
	// Petri-net semantics, for nets that are not run by the engine, such
	// as hand-built ones whose routing transitions stand for work.
	AllOrders bool
}

// The defaults of [Options].
const (
	DefaultMaxStates  = 200_000
	DefaultTokenBound = 32
	maxTokenBound     = 200
)

// CheckProgram checks every net of p, in order.
func CheckProgram(p *ir.Program, opts *Options) []*Report {
	var out []*Report
	for _, n := range p.Nets {
		if n != nil {
			out = append(out, Check(n, opts))
		}
	}
	return out
}

// Check explores the state space of n, which should have passed
// [ir.Program.Verify], and reports whether it is sound.
func Check(n *ir.Net, opts *Options) *Report {
	start := time.Now()
	_, r := explore(n, opts.withDefaults())
	r.Elapsed = time.Since(start)
	return r
}

// withDefaults returns a copy of opts (which may be nil) with the
// defaults filled in and the token bound capped.
func (opts *Options) withDefaults() Options {
	o := Options{MaxStates: DefaultMaxStates, TokenBound: DefaultTokenBound}
	if opts != nil {
		o.NoReduce, o.AllOrders = opts.NoReduce, opts.AllOrders
		if opts.MaxStates > 0 {
			o.MaxStates = opts.MaxStates
		}
		if opts.TokenBound > 0 {
			o.TokenBound = min(opts.TokenBound, maxTokenBound)
		}
	}
	return o
}

// explore explores the state space of n under o and returns the explorer,
// for its stored states, and the report.
func explore(n *ir.Net, o Options) (*explorer, *Report) {
	e := newExplorer(compile(n), o)
	r := &Report{Net: n.Name, net: n}
	e.run(r)
	return e, r
}

type labelRef struct{ off, len int32 }

type explorer struct {
	c    *net
	opt  Options
	np   int
	end  int
	seen map[string]int32
	// Per state, in discovery (= breadth-first) order.
	marks  []byte // state s is marks[s*np : (s+1)*np]
	parent []int32
	label  []labelRef
	labels []int32 // transitions fired on the edge from the parent
	// Successors of expanded states, compressed: succ[succOff[s]:succOff[s+1]].
	succOff []int32
	succ    []int32
	fired   []bool
	chains  []int32
	found   map[Kind]bool
	probs   []Problem
	// scratch
	init   []byte // the initial count of every place, within the bound
	m, m2  []byte
	orig   []byte // the marking before a cancel task's withdrawals
	one    [1]int32
	cand   []int32
	woken  map[string]bool // the signals whose first wait is a candidate
	base   []byte
	fire   []int32
	bounds bool     // a successor exceeded the token bound
	over   int32    // the place that exceeded the token bound
	used   []uint32 // per reducible transition: the collapse that fired it
	gen    uint32
}

func newExplorer(c *net, o Options) *explorer {
	e := &explorer{c: c, opt: o, np: c.places, end: int(c.n.End), seen: map[string]int32{},
		fired: make([]bool, len(c.trans)), found: map[Kind]bool{}}
	if !o.NoReduce {
		for i := range c.trans {
			if c.trans[i].chain {
				e.chains = append(e.chains, int32(i))
			}
		}
	}
	e.used = make([]uint32, len(e.chains))
	e.init = make([]byte, e.np)
	for i, x := range c.initial {
		e.init[i] = byte(min(x, int32(o.TokenBound)))
	}
	e.m = make([]byte, e.np)
	e.woken = map[string]bool{}
	e.m2 = make([]byte, e.np)
	e.base = make([]byte, e.np)
	return e
}

func (e *explorer) marking(s int32) []byte { return e.marks[int(s)*e.np : (int(s)+1)*e.np] }

// add stores marking m reached from parent by the firings in fire, unless
// it is known; it returns the state and whether it is new.
func (e *explorer) add(m []byte, parent int32, fire []int32) (int32, bool) {
	if s, ok := e.seen[string(m)]; ok {
		return s, false
	}
	s := int32(len(e.parent))
	e.seen[string(m)] = s
	e.marks = append(e.marks, m...)
	e.parent = append(e.parent, parent)
	e.label = append(e.label, labelRef{int32(len(e.labels)), int32(len(fire))})
	e.labels = append(e.labels, fire...)
	return s, true
}

func (e *explorer) run(r *Report) {
	c := e.c
	if e.np == 0 || e.end < 0 || e.end >= e.np || c.n.Start < 0 || int(c.n.Start) >= e.np {
		r.Problems = append(r.Problems, Problem{Kind: Deadlock, Transition: -1, Loc: c.n.Loc,
			Message: fmt.Sprintf("workflow %s has no start or end place", c.n.Name)})
		return
	}
	copy(e.m, e.init)
	e.m[c.n.Start]++
	e.fire = e.fire[:0]
	if !e.collapse(e.m) {
		e.bounds = true
		e.problem(Unbounded, -1, e.m, e.fire)
	}
	for _, f := range e.fire {
		e.fired[f] = true
	}
	e.add(e.m, -1, e.fire)
	complete := true
	for s := int32(0); int(s) < len(e.parent); s++ {
		if len(e.parent) > e.opt.MaxStates {
			complete = false
			break
		}
		e.succOff = append(e.succOff, int32(len(e.succ)))
		m := e.marking(s)
		if m[e.end] > 0 {
			// The case (or sub-workflow) has ended: the engine fires
			// nothing more and withdraws what is left.
			if !e.final(m) {
				e.problem(LeftoverTokens, s, m, nil)
			}
			continue
		}
		if e.expand(s) == 0 {
			e.problem(Deadlock, s, e.marking(s), nil)
		}
	}
	e.succOff = append(e.succOff, int32(len(e.succ)))
	r.States = len(e.parent)
	r.Edges = len(e.succ)
	if e.bounds {
		complete = false
	}
	r.Complete = complete
	if !complete && !e.bounds {
		e.probs = append(e.probs, Problem{Kind: Incomplete, Transition: -1, Loc: c.n.Loc,
			Message: fmt.Sprintf("could not prove workflow %s sound within %d states", c.n.Name, e.opt.MaxStates)})
	}
	if complete {
		if !e.found[Deadlock] && !e.found[LeftoverTokens] {
			e.livelock()
		}
		// A transition behind a deadlock or livelock never fires
		// because of it: the first problem explains those, and listing
		// them would bury it.
		stuck := e.found[Deadlock] || e.found[LeftoverTokens] || e.found[Livelock]
		for i := range c.trans {
			if !stuck && !e.fired[i] && c.trans[i].t != nil {
				t := c.trans[i].t
				e.probs = append(e.probs, Problem{Kind: DeadTransition, Transition: int32(i), Over: -1, Loc: t.Loc,
					Message: fmt.Sprintf("transition %s of workflow %s can never fire", t.Name, c.n.Name)})
			}
		}
	}
	r.Problems = e.probs
	r.Sound = complete && len(e.probs) == 0
}

// final reports whether m is a proper final marking: one token on the
// end, every resource back, and nothing else but tokens of branches that
// could only have ended the case themselves (doomed places), which the
// end withdraws.
func (e *explorer) final(m []byte) bool {
	for i, x := range m {
		want := e.init[i]
		if i == e.end {
			want = 1
		}
		if x != want && !e.c.doomed[i] {
			return false
		}
	}
	return true
}

// expand computes every successor of state s and returns how many firings
// are possible.
func (e *explorer) expand(s int32) int {
	count := 0
	// Copy: adding states may move e.marks.
	copy(e.m, e.marking(s))
	// A call that is enabled has started in the engine, even if what
	// fires at once withdraws it before it completes: it is not dead.
	for _, ti := range e.c.calls {
		if !e.fired[ti] && len(e.c.trans[ti].in) > 0 && len(e.joinModes(&e.c.trans[ti], e.m)) > 0 {
			e.fired[ti] = true
		}
	}
	for _, ti := range e.candidates(e.m) {
		tr := &e.c.trans[ti]
		if tr.t == nil || len(tr.in) == 0 || e.m[tr.in[0].place] == 0 && tr.t.Join == ir.JoinAnd {
			continue
		}
		for _, consume := range e.joinModes(tr, e.m) {
			copy(e.m2, e.m)
			for _, k := range consume {
				if tr.t.Join == ir.JoinDrain {
					e.m2[tr.in[k].place] = 0
				} else {
					e.m2[tr.in[k].place] -= byte(tr.in[k].weight)
				}
			}
			if !e.cancel(tr, e.m2) {
				count++
				e.bounds = true
				e.fire = append(e.fire[:0], int32(ti))
				e.problem(Unbounded, s, e.marking(s), e.fire)
				continue
			}
			copy(e.base, e.m2)
			for _, outs := range tr.splits {
				copy(e.m2, e.base)
				count++
				e.fire = append(e.fire[:0], int32(ti))
				ok := true
				for _, k := range outs {
					a := tr.out[k]
					if int(e.m2[a.place])+int(a.weight) > e.opt.TokenBound {
						ok = false
						e.over = a.place
						break
					}
					e.m2[a.place] += byte(a.weight)
				}
				if ok {
					ok = e.collapse(e.m2)
				}
				if !ok {
					e.bounds = true
					e.problem(Unbounded, s, e.marking(s), e.fire)
					continue
				}
				for _, f := range e.fire {
					e.fired[f] = true
				}
				t, _ := e.add(e.m2, s, e.fire)
				e.succ = append(e.succ, t)
			}
		}
	}
	return count
}

// candidates returns the transitions that may fire next at m, as the
// engine schedules them: a transition that fires at once (routing,
// assignments, returns, cancellations, markers) fires before any call
// completes, timer comes due or signal arrives, and of several such the
// engine fires the first in its order (cancellations first, then by
// index), so only that one is a candidate. Otherwise every transition
// is: each enabled call may complete next, each wait may be woken.
func (e *explorer) candidates(m []byte) []int32 {
	if e.opt.AllOrders {
		return e.c.every
	}
	for _, ti := range e.c.instant {
		tr := &e.c.trans[ti]
		if len(tr.in) > 0 && len(e.joinModes(tr, m)) > 0 {
			e.one[0] = ti
			return e.one[:]
		}
	}
	if !e.c.sharedSignals {
		return e.c.every
	}
	// A signal wakes the first enabled wait for it, in index order
	// (runtime/engine, Machine.signal): a later wait for the same signal
	// is not a candidate while an earlier one is enabled.
	e.cand = e.cand[:0]
	clear(e.woken)
	for _, ti := range e.c.every {
		tr := &e.c.trans[ti]
		if tr.t != nil && tr.t.Kind == ir.TSignal && len(tr.in) > 0 {
			if e.woken[tr.t.Label] {
				continue
			}
			if len(e.joinModes(tr, m)) > 0 {
				e.woken[tr.t.Label] = true
			}
		}
		e.cand = append(e.cand, ti)
	}
	return e.cand
}

// joinModes returns, for each way tr can fire at m, the indices of the
// input arcs it consumes.
func (e *explorer) joinModes(tr *trans, m []byte) [][]int {
	marked := func(k int) bool { return int32(m[tr.in[k].place]) >= tr.in[k].weight }
	switch tr.t.Join {
	case ir.JoinXor:
		var modes [][]int
		for k := range tr.in {
			if marked(k) {
				modes = append(modes, []int{k})
			}
		}
		return modes
	case ir.JoinOr:
		var ks []int
		for k := range tr.in {
			if marked(k) {
				ks = append(ks, k)
				continue
			}
			for _, q := range tr.upstream[k] {
				if m[q] > 0 {
					return nil // a token can still arrive at input k
				}
			}
		}
		if len(ks) == 0 {
			return nil
		}
		return [][]int{ks}
	case ir.JoinDrain:
		var ks []int
		for k := range tr.in {
			if m[tr.in[k].place] > 0 {
				ks = append(ks, k)
			}
		}
		if len(ks) == 0 || len(tr.upstream) == 0 {
			return nil
		}
		for _, q := range tr.upstream[0] {
			if m[q] > 0 {
				return nil // a thread of the flow is still running
			}
		}
		return [][]int{ks}
	case ir.JoinPartial:
		var ks []int
		for k := range tr.in {
			if marked(k) {
				ks = append(ks, k)
			}
		}
		if len(ks) == 0 || len(ks) < int(tr.t.JoinN) {
			return nil
		}
		return [][]int{ks}
	default: // AND
		for k := range tr.in {
			if !marked(k) {
				return nil
			}
		}
		return tr.all
	}
}

// maxOrSubsets bounds the OR-split outputs whose every subset is explored;
// beyond it, each single output and all of them together are.
const maxOrSubsets = 10

// splitModes returns, for each way tr can choose its outputs, the indices
// of the output arcs it produces on. Guards are abstracted: any arc of an
// XOR split may be taken, and any non-empty subset of an OR split's.
func splitModes(tr *trans) [][]int {
	n := len(tr.out)
	all := make([]int, n)
	for k := range all {
		all[k] = k
	}
	switch {
	case n <= 1 || tr.t.Split == ir.SplitAnd:
		return [][]int{all}
	case tr.t.Split == ir.SplitXor:
		modes := make([][]int, n)
		for k := range modes {
			modes[k] = []int{k}
		}
		return modes
	case n > maxOrSubsets:
		modes := make([][]int, 0, n+1)
		for k := 0; k < n; k++ {
			modes = append(modes, []int{k})
		}
		return append(modes, all)
	}
	modes := make([][]int, 0, 1<<n-1)
	for set := 1; set < 1<<n; set++ {
		var ks []int
		for k := 0; k < n; k++ {
			if set&(1<<k) != 0 {
				ks = append(ks, k)
			}
		}
		modes = append(modes, ks)
	}
	return modes
}

// cancel applies tr's cancellation to m, as the engine does (see
// runtime/engine, fire.go and canceltask.go): a cancel case restores the
// initial marking; a cancel task first withdraws the running calls of the
// task, each of whose branches goes on as if the call had completed
// (unless the call chooses among its outputs, when the branch ends), and
// then, like a cancel region, clears the places of its region. A call is
// running when its transition is enabled: the engine fires every enabled
// call at once. It reports false when a place would exceed the token
// bound.
func (e *explorer) cancel(tr *trans, m []byte) bool {
	switch tr.t.Cancel {
	case ir.CancelCase:
		copy(m, e.init)
	case ir.CancelRegion, ir.CancelTask:
		// Only the calls running before the cancel are withdrawn, not
		// one that a withdrawn call's branch enables: orig is the
		// marking they are enabled in.
		orig := append(e.orig[:0], m...)
		e.orig = orig
		for _, ti := range tr.skip {
			u := &e.c.trans[ti]
			for {
				modes := e.joinModes(u, orig)
				if len(modes) == 0 {
					break
				}
				for _, k := range modes[0] {
					orig[u.in[k].place] -= byte(u.in[k].weight)
					m[u.in[k].place] -= byte(u.in[k].weight)
				}
				e.fired[ti] = true
				if u.chooses {
					continue
				}
				for _, a := range u.out {
					if int(m[a.place])+int(a.weight) > e.opt.TokenBound {
						e.over = a.place
						return false
					}
					m[a.place] += byte(a.weight)
				}
			}
		}
		for _, p := range tr.cancel {
			m[p] = 0
		}
	}
	return true
}

// collapse fires the reducible transitions enabled in m, appending them to
// e.fire, and reports false when a place would exceed the token bound.
// Each fires at most once per call, so that a cycle of reducible
// transitions ends as an ordinary stored state (which is then fully
// expanded).
func (e *explorer) collapse(m []byte) bool {
	e.gen++
	for m[e.end] == 0 {
		progress := false
		for k, ti := range e.chains {
			tr := &e.c.trans[ti]
			in := tr.in[0].place
			if m[in] == 0 || e.used[k] == e.gen {
				continue
			}
			e.used[k] = e.gen
			for _, a := range tr.out {
				if int(m[a.place])+int(a.weight) > e.opt.TokenBound {
					e.over = a.place
					return false
				}
			}
			m[in]--
			for _, a := range tr.out {
				m[a.place] += byte(a.weight)
			}
			e.fire = append(e.fire, ti)
			progress = true
		}
		if !progress {
			break
		}
	}
	return true
}

// trace returns the firings from the start to state s, followed by extra.
func (e *explorer) trace(s int32, extra []int32) []Step {
	var rev [][]int32
	for ; s >= 0; s = e.parent[s] {
		l := e.label[s]
		rev = append(rev, e.labels[l.off:l.off+l.len])
	}
	var steps []Step
	add := func(ti int32) {
		t := e.c.trans[ti].t
		steps = append(steps, Step{Transition: ti, Name: t.Name, Loc: t.Loc})
	}
	for i := len(rev) - 1; i >= 0; i-- {
		for _, ti := range rev[i] {
			add(ti)
		}
	}
	for _, ti := range extra {
		add(ti)
	}
	return steps
}

func (e *explorer) placeName(i int32) string {
	if i >= 0 && int(i) < len(e.c.n.Places) && e.c.n.Places[i] != nil {
		return e.c.n.Places[i].Name
	}
	return fmt.Sprintf("p%d", i)
}

// tokens describes the places of m whose count differs from the start:
// "name" for one token, "name×n" for more, and "name (n of k)" for a
// resource place that does not hold its k tokens.
func (e *explorer) tokens(m []byte) []string {
	var out []string
	for i, x := range m {
		init := int32(e.init[i])
		switch {
		case init > 0 && int32(x) != init:
			out = append(out, fmt.Sprintf("%s (%d of %d)", e.placeName(int32(i)), x, init))
		case x == 0 || init > 0:
		case x == 1:
			out = append(out, e.placeName(int32(i)))
		default:
			out = append(out, fmt.Sprintf("%s×%d", e.placeName(int32(i)), x))
		}
	}
	return out
}

// marked lists the places of m whose count differs from the start, as
// tokens describes them.
func (e *explorer) marked(m []byte) []int32 {
	var out []int32
	for i, x := range m {
		if init := e.init[i]; init > 0 && x != init || init == 0 && x > 0 {
			out = append(out, int32(i))
		}
	}
	return out
}

// problem records the first problem of kind k, reached at state s (or at
// the start when s is -1) followed by the firings extra.
func (e *explorer) problem(k Kind, s int32, m []byte, extra []int32) {
	if e.found[k] {
		return
	}
	e.found[k] = true
	p := Problem{Kind: k, Transition: -1, Trace: e.trace(s, extra), Tokens: e.tokens(m), Marked: e.marked(m), Over: -1, Loc: e.c.n.Loc}
	if k == Unbounded {
		p.Over = e.over
	}
	if len(p.Trace) > 0 {
		if l := p.Trace[len(p.Trace)-1].Loc; l.Known() {
			p.Loc = l
		}
	}
	name, steps, toks := e.c.n.Name, p.TraceString(), strings.Join(p.Tokens, ", ")
	switch k {
	case Deadlock:
		p.Message = fmt.Sprintf("workflow %s can deadlock: after %s nothing can fire (tokens on %s)", name, steps, toks)
	case LeftoverTokens:
		p.Message = fmt.Sprintf("workflow %s can complete with tokens left behind: after %s tokens remain on %s", name, steps, toks)
	case Livelock:
		p.Message = fmt.Sprintf("workflow %s can run without ever completing: after %s the end is unreachable (tokens on %s)", name, steps, toks)
	case Unbounded:
		p.Message = fmt.Sprintf("workflow %s is unbounded: after %s place %s would hold more than %d tokens", name, steps, e.placeName(e.over), e.opt.TokenBound)
	}
	e.probs = append(e.probs, p)
}

// livelock reports the first state, breadth-first, from which the proper
// final marking cannot be reached.
func (e *explorer) livelock() {
	ns := len(e.parent)
	// Reverse edges, compressed.
	predOff := make([]int32, ns+1)
	for _, t := range e.succ {
		predOff[t+1]++
	}
	for i := 0; i < ns; i++ {
		predOff[i+1] += predOff[i]
	}
	pred := make([]int32, len(e.succ))
	fill := append([]int32(nil), predOff[:ns]...)
	for s := 0; s < ns; s++ {
		for _, t := range e.succ[e.succOff[s]:e.succOff[s+1]] {
			pred[fill[t]] = int32(s)
			fill[t]++
		}
	}
	ok := make([]bool, ns)
	var stack []int32
	for s := 0; s < ns; s++ {
		if e.final(e.marking(int32(s))) {
			ok[s] = true
			stack = append(stack, int32(s))
		}
	}
	for len(stack) > 0 {
		t := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, s := range pred[predOff[t]:predOff[t+1]] {
			if !ok[s] {
				ok[s] = true
				stack = append(stack, s)
			}
		}
	}
	for s := 0; s < ns; s++ {
		if !ok[s] {
			e.problem(Livelock, int32(s), e.marking(int32(s)), nil)
			return
		}
	}
}
