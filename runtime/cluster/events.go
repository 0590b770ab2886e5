// This file implements the FSM's record of each case's events: the
// replicated history that knhk history, export and the console read.
// Every replica keeps the events it applied, and snapshots carry them,
// so a node restored from a snapshot still has every case's whole
// history, not only its state.

package cluster

import (
	"errors"
	"sort"
	"strings"

	"github.com/knhk/knhk/runtime/engine"
)

// ErrKeyInUse is the outcome of a start whose business key names
// another case.
var ErrKeyInUse = errors.New("business key in use")

// Event is one committed event of a case.
type Event struct {
	// Index is the raft index of the entry that committed it: it grows
	// along the whole log, as a single server's record sequence does.
	Index uint64 `json:"i"`
	// Data is the event, encoded by engine.EncodeEvent.
	Data []byte `json:"e"`
}

// CaseEvents returns the events of case id in order and the number of
// events before the first one returned that the replica does not hold
// (0 unless the case came from a snapshot of a version that kept no
// events). The slice is the caller's; the events' Data must not be
// changed.
func (f *FSM) CaseEvents(id string) (evs []Event, missing uint64, ok bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	r := f.cases[id]
	if r == nil {
		return nil, 0, false
	}
	return append([]Event(nil), r.evs...), r.base, true
}

// CaseEventsSince returns the events of case id from the from'th one
// the replica holds on (see CaseEvents), for a watcher that has read
// the ones before.
func (f *FSM) CaseEventsSince(id string, from int) ([]Event, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	r := f.cases[id]
	if r == nil {
		return nil, false
	}
	if from >= len(r.evs) {
		return nil, true
	}
	return append([]Event(nil), r.evs[from:]...), true
}

// Key returns the business key of case id, "" for none.
func (f *FSM) Key(id string) string {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if r := f.cases[id]; r != nil {
		return r.key
	}
	return ""
}

// ByKey returns the case that business key names.
func (f *FSM) ByKey(key string) (string, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	id, ok := f.keys[key]
	return id, ok
}

// CasesByKey lists the cases whose business key contains sub, sorted
// by id.
func (f *FSM) CasesByKey(sub string) []string {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []string
	for key, id := range f.keys {
		if strings.Contains(key, sub) {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// Changed returns a channel closed when the FSM next applies an event
// (or restores a snapshot): a watcher reads, then waits on it.
func (f *FSM) Changed() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.changed == nil {
		f.changed = make(chan struct{})
	}
	return f.changed
}

// notify wakes the watchers. f.mu is held.
func (f *FSM) notify() {
	if f.changed != nil {
		close(f.changed)
		f.changed = nil
	}
}

// CasesByStart lists the ids of the cases in the order they started
// (by their start events' times, then ids), as a single server lists
// them.
func (f *FSM) CasesByStart() []string {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]string, 0, len(f.cases))
	for id := range f.cases {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := f.cases[out[i]], f.cases[out[j]]
		if a.started != b.started {
			return a.started < b.started
		}
		return out[i] < out[j]
	})
	return out
}

// Observe makes the FSM call fn with every event it applies, under its
// lock (fn must be quick: a metrics counter): each replica counts the
// events it applied.
func (f *FSM) Observe(fn func(*engine.Event)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.observe = fn
}
