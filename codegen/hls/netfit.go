// This file implements the fit check of a net's control part: the static
// conditions of the table, and a search of every marking the net can
// reach, ignoring guards, priorities and time (so every marking the
// engine can reach is among them), for one that puts a second token on a
// place or starts a call that is already running.

package hls

import (
	"fmt"
	"math/bits"

	"github.com/knhk/knhk/compiler/ir"
)

// maxStates bounds the search.
const maxStates = 200000

// Fits returns why the control part of net n does not fit the dispatch
// module; none when it does.
func Fits(p *ir.Program, n *ir.Net) []string {
	tb, why := newTable(p, n)
	if len(why) > 0 {
		return why
	}
	return tb.safe()
}

// mstate is a marking and the running calls.
type mstate struct{ m, b uint64 }

// enabled reports whether transition i is enabled in s, as
// runtime/engine's Machine.enabled decides for one frame without child
// frames.
func (tb *table) enabled(s mstate, i int) bool {
	tr := &tb.trans[i]
	if len(tr.in) == 0 {
		return false
	}
	switch tr.t.Join {
	case ir.JoinXor:
		return s.m&tr.inMask != 0
	case ir.JoinOr:
		any := false
		for k, q := range tr.in {
			if s.m&(1<<q) != 0 {
				any = true
				continue
			}
			if s.m&tr.up[k].places != 0 || s.b&tr.up[k].trans != 0 {
				return false
			}
		}
		return any
	case ir.JoinDrain:
		return s.m&tr.inMask != 0 && len(tr.up) == 1 && s.m&tr.up[0].places == 0 && s.b&tr.up[0].trans == 0
	case ir.JoinPartial:
		c := bits.OnesCount64(s.m & tr.inMask)
		return c > 0 && int32(c) >= tr.t.JoinN
	}
	return s.m&tr.inMask == tr.inMask
}

// consume takes i's input tokens.
func (tb *table) consume(m uint64, i int) uint64 {
	tr := &tb.trans[i]
	if tr.t.Join == ir.JoinXor {
		for _, q := range tr.in {
			if m&(1<<q) != 0 {
				return m &^ (1 << q)
			}
		}
		return m
	}
	return m &^ tr.inMask
}

// outMasks lists the output sets a firing of i may produce, guards
// unknown.
func (tb *table) outMasks(i int) [][]int {
	tr := &tb.trans[i]
	all := tr.out
	if !tr.chooses {
		return [][]int{all}
	}
	var out [][]int
	if tr.t.Split == ir.SplitXor {
		for _, q := range all {
			out = append(out, []int{q})
		}
		return out
	}
	for set := 1; set < 1<<len(all) && set < 1<<10; set++ {
		var s []int
		for k, q := range all {
			if set&(1<<k) != 0 {
				s = append(s, q)
			}
		}
		out = append(out, s)
	}
	return out
}

// safe searches the reachable markings; it returns why the net is not
// one-safe (or why the search gave up).
func (tb *table) safe() []string {
	names := func(q int) string { return tb.net.Places[q].Name }
	start := mstate{m: tb.init | 1<<tb.start}
	seen := map[mstate]bool{start: true}
	queue := []mstate{start}
	push := func(s mstate) {
		if !seen[s] {
			seen[s] = true
			queue = append(queue, s)
		}
	}
	produce := func(s mstate, t int, outs []int) (mstate, string) {
		for _, q := range outs {
			if s.m&(1<<q) != 0 {
				return s, fmt.Sprintf("place %s can hold two tokens (transition %s produces into it while it is marked), more than one bit holds", names(q), tb.net.Transitions[t].Name)
			}
			s.m |= 1 << q
		}
		return s, ""
	}
	for len(queue) > 0 {
		if len(seen) > maxStates {
			return []string{fmt.Sprintf("more than %d reachable markings: one token per place is not proved", maxStates)}
		}
		s := queue[0]
		queue = queue[1:]
		if s.m&(1<<tb.end) != 0 {
			continue // the case completes
		}
		for i := range tb.trans {
			tr := &tb.trans[i]
			if s.b&(1<<i) != 0 {
				// The running call completes.
				for _, outs := range tb.outMasks(i) {
					n, why := produce(mstate{s.m, s.b &^ (1 << i)}, i, outs)
					if why != "" {
						return []string{why}
					}
					push(n)
				}
			}
			if !tb.enabled(s, i) {
				continue
			}
			n := mstate{tb.consume(s.m, i), s.b}
			if tr.reset {
				n = mstate{tb.init, 0}
			}
			n.m &^= tr.cancelP
			n.b &^= tr.cancelT
			switch tr.act {
			case actCancelCase:
				continue // the case ends
			case actCall:
				if n.b&(1<<i) != 0 {
					return []string{fmt.Sprintf("transition %s can start a call while its previous call runs, more than one bit holds", tr.t.Name)}
				}
				n.b |= 1 << i
				push(n)
				continue
			}
			for _, outs := range tb.outMasks(i) {
				x, why := produce(n, i, outs)
				if why != "" {
					return []string{why}
				}
				if tr.act != actFail {
					push(x)
				}
			}
		}
	}
	return nil
}
