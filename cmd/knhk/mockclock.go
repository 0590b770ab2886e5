// This file implements the clock of a mocked case (knhk run --mock):
// skipped time, as in Temporal's time-skipping test server. Where a
// command would sleep until the case's next timer or retry backoff comes
// due, the case's clock jumps there instead, and knhk resume --advance D
// moves it on by D, for the timers of a case that waits for a signal as
// well. The clock is the real one plus the time skipped so far, which
// the case's metadata keeps with its mock, so it never runs backwards
// and every command on the case reads the same clock.

package main

import (
	"context"
	"fmt"
	"time"

	"github.com/knhk/knhk/runtime/engine"
)

// Now returns the case's time: the real time plus the time skipped.
func (m *caseMock) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return time.Now().Add(time.Duration(m.Skew))
}

// advance moves the case's clock on by d and records it.
func (m *caseMock) advance(d time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Skew += int64(d)
	if err := m.saveLocked(); err != nil {
		return fmt.Errorf("recording the mocked clock: %w", err)
	}
	return nil
}

// mockClock returns the engine clock of a case with mock m: m itself, or
// nil (the system clock) for a case without one.
func mockClock(m *caseMock) engine.Clock {
	if m == nil {
		return nil
	}
	return m
}

type mockClockKey struct{}

// withMockClock returns ctx marked so that resume skips time on m's clock
// instead of sleeping; ctx itself when m is nil.
func withMockClock(ctx context.Context, m *caseMock) context.Context {
	if m == nil {
		return ctx
	}
	return context.WithValue(ctx, mockClockKey{}, m)
}

// untilDue returns how long resume must sleep until due: on a mocked
// case's clock nothing, the clock having jumped to due.
func untilDue(ctx context.Context, due time.Time) (time.Duration, error) {
	m, ok := ctx.Value(mockClockKey{}).(*caseMock)
	if !ok {
		return time.Until(due), nil
	}
	if d := due.Sub(m.Now()); d > 0 {
		return 0, m.advance(d)
	}
	return 0, nil
}

// mockOf returns the mock of case c, nil for none.
func mockOf(c *caseLog) *caseMock {
	if c == nil || c.meta == nil {
		return nil
	}
	return c.meta.Mock
}
