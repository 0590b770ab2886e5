// This file implements Backfill: receipts for the events of the event
// log that have none.

package receipt

import (
	"github.com/knhk/knhk/runtime/engine"
)

// EventSource calls fn with every event of an event log at position
// from or after, in append order, with its position (the store's
// sequence number: positions grow along the log).
type EventSource func(from uint64, fn func(pos uint64, caseID string, ev *engine.Event) error) error

// Backfill gives a receipt to every event of the event log that has
// none, in log order: the events a crash cut off between their append
// and the next checkpoint (receipts are made durable with checkpoints),
// and those of cases continued without receipts. A receipt covers the
// case's k-th event when it is the case's k-th receipt, so the receipts
// of a case stay in step with its events and knhk receipts verify can
// compare them. descriptor returns the descriptor hash of a case's
// program. Backfill scans the events from the position the last clean
// Close recorded (the tail state), so a start costs the events appended
// since, not the whole log. It returns how many receipts it added, once
// they are queued like Record's; call it before the engine appends.
func (r *Recorder) Backfill(events EventSource, descriptor func(caseID string) string) (int, error) {
	// What the log holds, sequencer queue included.
	if err := r.drain(); err != nil {
		return 0, err
	}
	r.mu.Lock()
	have := make(map[string]int, len(r.cases))
	for id, c := range r.cases {
		have[id] = c.n
	}
	from := r.evFrom
	seen := make(map[string]int, len(r.evCounts))
	for id, n := range r.evCounts {
		seen[id] = n
	}
	r.mu.Unlock()
	descs := map[string]string{}
	added := 0
	next := from
	err := events(from, func(pos uint64, id string, ev *engine.Event) error {
		next = pos + 1
		k := seen[id]
		seen[id] = k + 1
		if k < have[id] {
			return nil
		}
		d, ok := descs[id]
		if !ok {
			d = descriptor(id)
			descs[id] = d
		}
		added++
		return r.Record(id, d, ev)
	})
	if err == nil {
		// Every event before next has a receipt now (queued).
		r.mu.Lock()
		r.evFrom, r.evCounts = next, seen
		r.mu.Unlock()
	}
	return added, err
}

// drain waits until the sequencer has made a receipt of everything
// queued so far.
func (r *Recorder) drain() error {
	r.qmu.Lock()
	target := r.qn
	r.qmu.Unlock()
	select {
	case r.qwake <- struct{}{}:
	default:
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.next < target && r.err == nil {
		r.cond.Wait()
	}
	return r.err
}
