// This file implements the fit check of a net's control part and its
// layout: the static conditions of the table, then a search of every
// marking the net can reach, ignoring guards, priorities and time (so
// every marking the engine can reach is among them), for the most tokens
// each place holds and the most calls each transition runs at once. A
// place that can hold n tokens gets n bits of the marking (thermometer
// code), a transition that can run n calls n bits of the busy vector.

package hls

import (
	"fmt"

	"github.com/knhk/knhk/compiler/ir"
)

const (
	// maxStates bounds the search.
	maxStates = 200000
	// maxTokens bounds the tokens of one place and the calls of one
	// transition the module counts.
	maxTokens = 8
)

// Fits returns why the control part of net n does not fit the dispatch
// module; none when it does.
func Fits(p *ir.Program, n *ir.Net) []string {
	_, why := layout(p, n)
	return why
}

// layout builds n's table and its bit layout, or says why n does not
// fit.
func layout(p *ir.Program, n *ir.Net) (*table, []string) {
	tb, why := newTable(p, n)
	if len(why) > 0 {
		return tb, why
	}
	maxP, maxB, why := tb.search()
	if len(why) > 0 {
		return tb, why
	}
	tb.pOff, tb.pWid = make([]int, tb.np), make([]int, tb.np)
	for q := range tb.pWid {
		tb.pOff[q], tb.pWid[q] = tb.pBits, max(maxP[q], 1)
		tb.pBits += tb.pWid[q]
	}
	tb.bOff, tb.bWid = make([]int, tb.nt), make([]int, tb.nt)
	for t := range tb.bWid {
		if tb.trans[t].act == actCall {
			tb.bOff[t], tb.bWid[t] = tb.bBits, max(maxB[t], 1)
			tb.bBits += tb.bWid[t]
		}
	}
	if tb.pBits > maxBits {
		why = append(why, fmt.Sprintf("the marking needs %d bits (a bit per token each place can hold), more than %d", tb.pBits, maxBits))
	}
	if tb.bBits > maxBits {
		why = append(why, fmt.Sprintf("the running calls need %d bits, more than %d", tb.bBits, maxBits))
	}
	return tb, why
}

// enabledC reports whether transition i is enabled in state s (token
// counts of the places, then running calls of the transitions), as
// runtime/engine's Machine.enabled decides for one frame without child
// frames.
func (tb *table) enabledC(s []uint8, i int) bool {
	tr := &tb.trans[i]
	if len(tr.in) == 0 {
		return false
	}
	mk, busy := s[:tb.np], s[tb.np:]
	has := func(k int) bool { return int(mk[tr.in[k]]) >= tr.inW[k] }
	switch tr.t.Join {
	case ir.JoinXor:
		for k := range tr.in {
			if has(k) {
				return true
			}
		}
		return false
	case ir.JoinOr:
		any := false
		for k := range tr.in {
			if has(k) {
				any = true
				continue
			}
			for _, q := range tr.upP[k] {
				if mk[q] > 0 {
					return false
				}
			}
			for _, t := range tr.upT[k] {
				if busy[t] > 0 {
					return false
				}
			}
		}
		return any
	case ir.JoinDrain:
		marked := false
		for _, q := range tr.in {
			marked = marked || mk[q] > 0
		}
		if !marked || len(tr.upP) != 1 {
			return false
		}
		for _, q := range tr.upP[0] {
			if mk[q] > 0 {
				return false
			}
		}
		for _, t := range tr.upT[0] {
			if busy[t] > 0 {
				return false
			}
		}
		return true
	case ir.JoinPartial:
		c := 0
		for k := range tr.in {
			if has(k) {
				c++
			}
		}
		return c > 0 && int32(c) >= tr.t.JoinN
	}
	for k := range tr.in {
		if !has(k) {
			return false
		}
	}
	return true
}

// consumeC takes i's input tokens from s, as runtime/engine's consume.
func (tb *table) consumeC(s []uint8, i int) {
	tr := &tb.trans[i]
	switch tr.t.Join {
	case ir.JoinXor:
		for k, q := range tr.in {
			if int(s[q]) >= tr.inW[k] {
				s[q] -= uint8(tr.inW[k])
				return
			}
		}
	case ir.JoinDrain:
		for _, q := range tr.in {
			s[q] = 0
		}
	case ir.JoinOr, ir.JoinPartial:
		for k, q := range tr.in {
			if int(s[q]) >= tr.inW[k] {
				s[q] -= uint8(tr.inW[k])
			}
		}
	default:
		for k, q := range tr.in {
			s[q] -= uint8(tr.inW[k])
		}
	}
}

// outSets lists the sets of output arcs (indexes into out) a firing of
// i may produce, guards unknown.
func (tb *table) outSets(i int) [][]int {
	tr := &tb.trans[i]
	all := make([]int, len(tr.out))
	for k := range all {
		all[k] = k
	}
	if !tr.chooses {
		return [][]int{all}
	}
	var out [][]int
	if tr.t.Split == ir.SplitXor {
		for _, k := range all {
			out = append(out, []int{k})
		}
		return out
	}
	for set := 1; set < 1<<len(all) && set < 1<<10; set++ {
		var s []int
		for _, k := range all {
			if set&(1<<k) != 0 {
				s = append(s, k)
			}
		}
		out = append(out, s)
	}
	return out
}

// search explores the reachable states and returns the most tokens of
// each place and the most running calls of each transition, or why the
// net does not fit.
func (tb *table) search() (maxP, maxB []int, why []string) {
	np := tb.np
	start := make([]uint8, np+tb.nt)
	for q, c := range tb.init {
		start[q] = uint8(c)
	}
	start[tb.start]++
	seen := map[string]bool{string(start): true}
	queue := [][]uint8{start}
	maxP, maxB = make([]int, np), make([]int, tb.nt)
	var bad string
	push := func(s []uint8) {
		for q := range np {
			if s[q] > maxTokens && bad == "" {
				bad = fmt.Sprintf("place %s can hold more than %d tokens", tb.net.Places[q].Name, maxTokens)
			}
		}
		for t, c := range s[np:] {
			if c > maxTokens && bad == "" {
				bad = fmt.Sprintf("transition %s can run more than %d calls at once", tb.net.Transitions[t].Name, maxTokens)
			}
		}
		if k := string(s); !seen[k] {
			seen[k] = true
			queue = append(queue, s)
		}
	}
	produce := func(s []uint8, i int, set []int) []uint8 {
		x := append([]uint8(nil), s...)
		for _, k := range set {
			x[tb.trans[i].out[k]] += uint8(tb.trans[i].outW[k])
		}
		return x
	}
	for len(queue) > 0 && bad == "" {
		if len(seen) > maxStates {
			return nil, nil, []string{fmt.Sprintf("more than %d reachable markings: the search gives up", maxStates)}
		}
		s := queue[0]
		queue = queue[1:]
		for q := range np {
			maxP[q] = max(maxP[q], int(s[q]))
		}
		for t := range tb.nt {
			maxB[t] = max(maxB[t], int(s[np+t]))
		}
		if s[tb.end] > 0 {
			continue // the case completes
		}
		for i := range tb.trans {
			tr := &tb.trans[i]
			if s[np+i] > 0 {
				// A running call completes.
				for _, set := range tb.outSets(i) {
					x := produce(s, i, set)
					x[np+i]--
					push(x)
				}
			}
			if !tb.enabledC(s, i) {
				continue
			}
			x := append([]uint8(nil), s...)
			tb.consumeC(x, i)
			if tr.reset {
				for q := range np {
					x[q] = uint8(tb.init[q])
				}
				clear(x[np:])
			}
			for _, q := range tr.cancelP {
				x[q] = 0
			}
			for _, t := range tr.cancelT {
				x[np+t] = 0
			}
			switch tr.act {
			case actCancelCase:
				continue // the case ends
			case actCall:
				x[np+i]++
				push(x)
				continue
			}
			for _, set := range tb.outSets(i) {
				y := produce(x, i, set)
				if tr.act == actFail {
					// The case fails; only the bound matters.
					for q := range np {
						maxP[q] = max(maxP[q], int(y[q]))
					}
					continue
				}
				push(y)
			}
		}
	}
	if bad != "" {
		return nil, nil, []string{bad}
	}
	return maxP, maxB, nil
}
