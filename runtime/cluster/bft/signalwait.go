// This file implements how a Driver's Signal learns that its own event
// is in a block: the driver's Log reports each signal it appended.

package bft

import (
	"sync"

	"github.com/knhk/knhk/runtime/engine"
)

// signalWaits are the Signal calls waiting, by case and signal name, in
// call order.
type signalWaits struct {
	mu sync.Mutex
	m  map[string][]chan error
}

func sigKey(id, name string) string { return id + "\x00" + name }

// wait registers a call for signal name of case id; the channel gets
// the outcome of the next such signal appended.
func (s *signalWaits) wait(id, name string) chan error {
	ch := make(chan error, 1)
	s.mu.Lock()
	s.m[sigKey(id, name)] = append(s.m[sigKey(id, name)], ch)
	s.mu.Unlock()
	return ch
}

// forget drops a call that stopped waiting.
func (s *signalWaits) forget(id, name string, ch chan error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := sigKey(id, name)
	for i, c := range s.m[k] {
		if c == ch {
			s.m[k] = append(s.m[k][:i], s.m[k][i+1:]...)
			break
		}
	}
	if len(s.m[k]) == 0 {
		delete(s.m, k)
	}
}

// appended is the Log's report of an append: a signal's outcome goes to
// the first call waiting for it.
func (s *signalWaits) appended(id string, ev *engine.Event, err error) {
	if ev.Kind != engine.EvSignal {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := sigKey(id, ev.Name)
	if q := s.m[k]; len(q) > 0 {
		q[0] <- err
		if s.m[k] = q[1:]; len(s.m[k]) == 0 {
			delete(s.m, k)
		}
	}
}
