// This file implements Backfill: receipts for the events of the event
// log that have none.

package receipt

import (
	"github.com/knhk/knhk/runtime/engine"
)

// Backfill gives a receipt to every event of the event log that has
// none, in log order: the events a crash cut off between their append
// and the next checkpoint (receipts are made durable with checkpoints),
// and those of cases continued without receipts. A receipt covers the
// case's k-th event when it is the case's k-th receipt, so the receipts
// of a case stay in step with its events and knhk receipts verify can
// compare them. events calls fn with every event of the log in append
// order; descriptor returns the descriptor hash of a case's program.
// Backfill returns how many receipts it added, once they are queued like
// Record's; call it before the engine appends.
func (r *Recorder) Backfill(events func(fn func(caseID string, ev *engine.Event) error) error, descriptor func(caseID string) string) (int, error) {
	// What the log holds, sequencer queue included.
	if err := r.drain(); err != nil {
		return 0, err
	}
	r.mu.Lock()
	have := make(map[string]int, len(r.cases))
	for id, c := range r.cases {
		have[id] = c.n
	}
	r.mu.Unlock()
	seen := map[string]int{}
	descs := map[string]string{}
	added := 0
	err := events(func(id string, ev *engine.Event) error {
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
