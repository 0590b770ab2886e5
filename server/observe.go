// This file implements what the Service shows its observers: the hooks
// an [Observer] receives and the counts a metrics scrape reads.

package server

import (
	"fmt"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/queue"
	"github.com/knhk/knhk/runtime/store"
)

// Observer sees what the Service does, for metrics; server/metrics
// implements it. Its methods are called on the paths they observe, so
// they must be quick and must not call the Service.
type Observer interface {
	// Event is called after ev, an event of a case, is durable (not
	// for events recovery replays).
	Event(ev *engine.Event)
	// Commit is the store's Options.OnCommit, unless that is set.
	Commit(store.CommitInfo)
	// Worker wraps the worker of every program's engine, to time task
	// attempts.
	Worker(engine.Worker) engine.Worker
}

// CaseCounts calls fn once per workflow and status with the number of
// cases the Service holds in it (cases whose start failed are not
// held). It takes one pass over the cases.
func (s *Service) CaseCounts(fn func(workflow, status string, n int)) {
	type key struct{ wf, status string }
	s.mu.Lock()
	list := append([]*caseEntry(nil), s.list...) // forget edits s.list in place
	s.mu.Unlock()
	counts := map[key]int{}
	var order []key
	for _, e := range list {
		if !e.listed() {
			continue
		}
		e.mu.Lock()
		k := key{e.sum.Workflow, e.sum.Status}
		e.mu.Unlock()
		if _, ok := counts[k]; !ok {
			order = append(order, k)
		}
		counts[k]++
	}
	for _, k := range order {
		fn(k.wf, k.status, counts[k])
	}
}

// Err returns the error that stopped the event log taking appends (a
// failed write or fsync), nil while it takes them. Every start, signal
// and step fails until the server is restarted, which recovers from
// what is on disk; knhk serve's probes report it.
func (s *Service) Err() error {
	if err := s.st.Err(); err != nil {
		return fmt.Errorf("the event log refuses appends until the server restarts: %w", err)
	}
	return nil
}

// QueueStats returns a snapshot of the queues of external task workers.
func (s *Service) QueueStats() []queue.QueueStats { return s.broker.Stats() }
