// This file holds the model the process-level Jepsen test checks its
// history against: a case as a write-once register (its first Set
// signal), the same specification as runtime/cluster's in-process
// Jepsen test, kept here because test files of another package cannot
// be imported.

package main

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/anishathalye/porcupine"
)

// registerSource is the workflow under test: a case waits for its first
// Set signal and returns the value it carried; later signals are
// ignored; the query value reads the register before the case ends.
// The day-long timer must not fire during the test.
const registerSource = `package jepsen

workflow R(c: string) -> int {
  signal Set(x: int)
  var got = 0
  query value -> int = got
  select {
    on signal Set(x: int) -> {
      got = x
    }
    on timer 24h -> {
      got = -1
    }
  }
  return got
}
`

type jOpKind int

const (
	jStart jOpKind = iota
	jSignal
	jGet
	jQuery
)

func (k jOpKind) String() string { return [...]string{"start", "signal", "get", "query"}[k] }

type jInput struct {
	kind jOpKind
	key  string
	x    int64 // jSignal's value, unique in the history
}

// jOutput is what the client saw; unknown: no answer came (every retry
// failed), so the operation may or may not have happened.
type jOutput struct {
	unknown bool
	err     string // "exists" (start), "nocase" (signal, get), "" for success
	done    bool   // get: the case has completed
	result  int64  // get of a completed case: its result; query: its answer
}

type jState struct {
	started bool
	val     int64 // first signal's value; 0 before one
	done    bool  // a read has seen the case completed
	seen    bool  // a read has seen val (a query, or done)
}

// jModel is the sequential specification of one case under start,
// signal, read and query, nondeterministic where the system may be: an
// operation with an unknown outcome happened or not, and a case whose
// signal is committed may still read as running until its completion is
// committed (but not once a read saw it completed).
var jModel = porcupine.NondeterministicModel{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		by := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range h {
			k := op.Input.(jInput).key
			if _, ok := by[k]; !ok {
				keys = append(keys, k)
			}
			by[k] = append(by[k], op)
		}
		var out [][]porcupine.Operation
		for _, k := range keys {
			out = append(out, by[k])
		}
		return out
	},
	Init: func() []any { return []any{jState{}} },
	Step: func(st, in, out any) []any {
		s, i, o := st.(jState), in.(jInput), out.(jOutput)
		switch i.kind {
		case jStart:
			started := s
			started.started = true
			switch {
			case o.unknown && !s.started:
				return []any{s, started}
			case o.unknown, o.err == "exists" && s.started:
				return []any{s}
			case o.err == "" && !s.started:
				return []any{started}
			}
		case jSignal:
			set := s
			if s.started && s.val == 0 {
				set.val = i.x
			}
			switch {
			case o.unknown:
				return []any{s, set}
			case o.err == "nocase" && !s.started:
				return []any{s}
			case o.err == "" && s.started:
				return []any{set}
			}
		case jGet:
			switch {
			case o.err == "nocase" && !s.started:
				return []any{s}
			case o.err == "" && s.started && !o.done && !s.done:
				return []any{s}
			case o.err == "" && s.started && o.done && s.val != 0 && o.result == s.val:
				d := s
				d.done, d.seen = true, true
				return []any{d}
			}
		case jQuery:
			// The signal's branch may set the register after the signal
			// is committed, but once a read saw it set it stays set.
			switch {
			case o.err == "nocase" && !s.started:
				return []any{s}
			case o.err == "" && s.started && o.result == 0 && !s.seen:
				return []any{s}
			case o.err == "" && s.started && s.val != 0 && o.result == s.val:
				q := s
				q.seen = true
				return []any{q}
			}
		}
		return nil
	},
	DescribeOperation: func(in, out any) string {
		i, o := in.(jInput), out.(jOutput)
		return fmt.Sprintf("%v %s x=%d -> %+v", i.kind, i.key, i.x, o)
	},
}

// jHistory records operations with a logical clock: a call is stamped
// before it is sent and its return after its answer, so the stamps
// order operations as real time did.
type jHistory struct {
	clock atomic.Int64
	mu    sync.Mutex
	ops   []porcupine.Operation
}

// record runs do and adds the operation; a read whose outcome is
// unknown is left out (it changed nothing), any other unknown outcome
// stays open until the end of the history.
func (h *jHistory) record(client int, in jInput, do func() jOutput) jOutput {
	call := h.clock.Add(1)
	out := do()
	ret := h.clock.Add(1)
	if out.unknown {
		if in.kind == jGet || in.kind == jQuery {
			return out
		}
		ret = -1
	}
	h.mu.Lock()
	h.ops = append(h.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
	h.mu.Unlock()
	return out
}

// operations returns the history with open operations closed after
// everything else.
func (h *jHistory) operations() []porcupine.Operation {
	end := h.clock.Add(1)
	h.mu.Lock()
	defer h.mu.Unlock()
	out := append([]porcupine.Operation(nil), h.ops...)
	for i := range out {
		if out[i].Return < 0 {
			out[i].Return = end
		}
	}
	return out
}
