// This file implements the in-memory event log.

package engine

import (
	"context"
	"sync"
)

// MemLog is an [EventLog] in memory, for tests and benchmarks.
type MemLog struct {
	mu    sync.Mutex
	cases map[string][]Event
	snaps map[string]memSnap // the latest snapshot of each case
}

// NewMemLog returns an empty log.
func NewMemLog() *MemLog { return &MemLog{cases: map[string][]Event{}} }

// Append stores a copy of ev.
func (l *MemLog) Append(ctx context.Context, caseID string, ev *Event) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	l.cases[caseID] = append(l.cases[caseID], *ev)
	l.mu.Unlock()
	return nil
}

// Replay calls fn with the events of caseID.
func (l *MemLog) Replay(ctx context.Context, caseID string, fn func(*Event) error) error {
	l.mu.Lock()
	evs := l.cases[caseID]
	l.mu.Unlock()
	for i := range evs {
		if err := ctx.Err(); err != nil {
			return err
		}
		ev := evs[i]
		if err := fn(&ev); err != nil {
			return err
		}
	}
	return nil
}

// Events returns a copy of the events of caseID.
func (l *MemLog) Events(caseID string) []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Event(nil), l.cases[caseID]...)
}
