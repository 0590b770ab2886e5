// This file implements parked cases: a case that waits only for signals
// and timers (no call in flight or backing off) is kept as data, its
// summary and where its latest snapshot is in the log, instead of as an
// engine state and a driver goroutine. A signal, cancel or query
// rehydrates it from that snapshot, and so does its next timer, which
// one scheduler goroutine keeps for every parked case. A server holds a
// million waiting cases this way in the memory of their summaries, and
// a restart reads them from the index without replaying any.

package server

import (
	"container/heap"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/knhk/knhk/runtime/engine"
)

// park is a parked case's record: its next timer, zero for none.
type park struct {
	due int64 // Unix nanoseconds
}

// parkedEntry is the entry of a case Open parks from the index with its
// next timer at due: like an ended case's, it allocates only what a
// rehydration needs.
func parkedEntry(sum Summary, due int64) *caseEntry {
	e := &caseEntry{id: sum.ID, sum: sum, started: closed, ready: closed, parked: &park{due: due}}
	e.startOnce.Do(func() {})
	return e
}

// parked returns e's park record, nil when the engine holds the case.
func (e *caseEntry) parkedRec() *park {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.parked
}

// readyC returns the channel closed once the engine holds the case
// (see caseEntry.ready).
func (e *caseEntry) readyC() chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ready
}

// parkable reports whether st waits for nothing but signals and timers.
func parkable(st *engine.State) bool {
	return st.Status == engine.Running && len(st.Invs) == 0
}

// tryPark parks case e of program p, whose state is st, unless a call
// on the case is under way (it pokes the driver when done, which then
// looks again; kick is the driver's). It reports whether the case is
// parked: the driver then exits.
func (s *Service) tryPark(ctx context.Context, e *caseEntry, p *Program, st *engine.State, kick chan struct{}) bool {
	if s.opts.NoPark || !e.op.TryLock() {
		return false
	}
	defer e.op.Unlock()
	if len(kick) > 0 {
		return false // a signal or cancel ran the case since st was taken
	}
	due, hasDue := p.eng.NextDue(e.id)
	// A snapshot after the last event: rehydrating reads one record.
	pos := s.log.position(e.id)
	if pos.Snap < pos.Last {
		b, err := p.eng.Machine().EncodeState(st, max(pos.N, 1))
		if err == nil {
			err = s.log.SaveSnapshot(ctx, e.id, b)
		}
		if err == nil {
			err = s.log.sync(ctx, e.id)
		}
		if err != nil {
			return false // the engine keeps the case
		}
	}
	pk := &park{}
	if hasDue {
		pk.due = due.UnixNano()
	}
	p.eng.Forget(e.id)
	e.mu.Lock()
	e.parked = pk
	e.mu.Unlock()
	if hasDue {
		s.timers.add(e, pk)
	}
	return true
}

// unpark hands a parked case e back to its program's engine and a
// driver; the caller holds e.op (shared). It returns at once; e.readyC says when
// the engine holds the case.
func (s *Service) unpark(e *caseEntry) error {
	e.mu.Lock()
	pk := e.parked
	if pk == nil {
		e.mu.Unlock()
		return nil
	}
	prog := e.sum.Program
	e.mu.Unlock()
	p, err := s.program(prog)
	if err != nil {
		return &Error{Code: CodeInternal, Message: "case " + e.id + ": " + err.Error(), Err: err}
	}
	s.mu.Lock()
	closing := s.closing
	if !closing {
		s.drivers.Add(1)
	}
	s.mu.Unlock()
	if closing {
		return &Error{Code: CodeUnavailable, Message: ErrClosed.Error(), Err: ErrClosed}
	}
	ready := make(chan struct{})
	e.mu.Lock()
	e.parked, e.ready = nil, ready
	e.mu.Unlock()
	id := e.id
	go s.drive(e, p, func(ctx context.Context) error { return p.eng.Recover(ctx, id) })
	return nil
}

// wake rehydrates parked case e when its timer comes due.
func (s *Service) wake(e *caseEntry, pk *park) {
	e.op.RLock()
	// The driver may try to park the case again before the lock is let
	// go, and fail: the poke makes it look once more.
	defer func() { e.op.RUnlock(); e.poke() }()
	if e.parkedRec() != pk {
		return // woken by a call meanwhile
	}
	if err := s.unpark(e); err != nil && CodeOf(err) != CodeUnavailable {
		fmt.Fprintf(s.opts.Log, "knhk serve: case %s: %v\n", e.id, err)
	}
}

// timerQueue wakes parked cases when their timers come due.
type timerQueue struct {
	s     *Service
	mu    sync.Mutex
	h     dueHeap
	reset chan struct{} // buffered 1: an earlier timer was added
}

type dueEntry struct {
	e  *caseEntry
	pk *park
}

type dueHeap []dueEntry

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].pk.due < h[j].pk.due }
func (h dueHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueHeap) Push(x any)        { *h = append(*h, x.(dueEntry)) }
func (h *dueHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = dueEntry{}
	*h = old[:len(old)-1]
	return x
}

func (q *timerQueue) add(e *caseEntry, pk *park) {
	q.mu.Lock()
	heap.Push(&q.h, dueEntry{e, pk})
	first := q.h[0].pk == pk
	q.mu.Unlock()
	if first {
		select {
		case q.reset <- struct{}{}:
		default:
		}
	}
}

// run wakes the cases whose timers are due until stop is closed.
// Entries of cases woken by a call meanwhile are dropped when they come
// up (wake checks the park record).
func (q *timerQueue) run(stop <-chan struct{}) {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		q.mu.Lock()
		now := time.Now().UnixNano()
		var due []dueEntry
		for len(q.h) > 0 && q.h[0].pk.due <= now {
			due = append(due, heap.Pop(&q.h).(dueEntry))
		}
		wait := time.Hour
		if len(q.h) > 0 {
			wait = time.Duration(q.h[0].pk.due - now)
		}
		q.mu.Unlock()
		for _, d := range due {
			go q.s.wake(d.e, d.pk)
		}
		t.Reset(wait)
		select {
		case <-t.C:
		case <-q.reset:
			if !t.Stop() {
				select {
				case <-t.C:
				default:
				}
			}
		case <-stop:
			return
		}
	}
}
