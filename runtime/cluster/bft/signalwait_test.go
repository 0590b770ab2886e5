package bft

import (
	"errors"
	"testing"

	"github.com/knhk/knhk/runtime/engine"
)

// TestSignalWaits: a Signal call learns the outcome of its own signal's
// append only: not another case's, another signal's or another kind of
// event's; calls for one signal are answered in order; a call that
// stopped waiting is answered no more.
func TestSignalWaits(t *testing.T) {
	s := &signalWaits{m: map[string][]chan error{}}
	a, b := s.wait("c1", "Go"), s.wait("c1", "Go")
	gone := s.wait("c1", "Go")
	s.forget("c1", "Go", gone)
	s.appended("c2", &engine.Event{Kind: engine.EvSignal, Name: "Go"}, nil)
	s.appended("c1", &engine.Event{Kind: engine.EvSignal, Name: "Stop"}, nil)
	s.appended("c1", &engine.Event{Kind: engine.EvDone, Name: "Go"}, nil)
	for _, ch := range []chan error{a, b} {
		select {
		case err := <-ch:
			t.Fatalf("answered by another event: %v", err)
		default:
		}
	}
	refused := errors.New("refused")
	s.appended("c1", &engine.Event{Kind: engine.EvSignal, Name: "Go"}, refused)
	s.appended("c1", &engine.Event{Kind: engine.EvSignal, Name: "Go"}, nil)
	s.appended("c1", &engine.Event{Kind: engine.EvSignal, Name: "Go"}, nil) // nobody waits
	if err := <-a; err != refused {
		t.Fatalf("first call: %v", err)
	}
	if err := <-b; err != nil {
		t.Fatalf("second call: %v", err)
	}
	select {
	case <-gone:
		t.Fatal("a forgotten call was answered")
	default:
	}
	if len(s.m) != 0 {
		t.Fatalf("waits left: %v", s.m)
	}
}
