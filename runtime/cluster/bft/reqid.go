// This file implements request ids on a driver's signals: the id rides
// in the committed command, where every validator's FSM remembers its
// outcome, so a client's retry with the same id answers that outcome
// and delivers nothing again (as the raft cluster does).

package bft

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/knhk/knhk/runtime/engine"
)

// ErrDuplicate is the outcome of an event transaction whose request id
// a block already applied: nothing is applied. The driver then answers
// the first application's outcome.
var ErrDuplicate = errors.New("request id already applied")

// reqSlot carries a request id from Driver.Signal to the Log's append of
// the signal's event, the first signal appended under the context.
type reqSlot struct {
	id   string
	used atomic.Bool
}

type slotKey struct{}

func withReq(ctx context.Context, s *reqSlot) context.Context {
	return context.WithValue(ctx, slotKey{}, s)
}

// reqOf returns the request id ev carries: the slot's, once, for the
// first signal event appended under ctx.
func reqOf(ctx context.Context, ev *engine.Event) string {
	s, _ := ctx.Value(slotKey{}).(*reqSlot)
	if s == nil || ev.Kind != engine.EvSignal || !s.used.CompareAndSwap(false, true) {
		return ""
	}
	return s.id
}

// once runs do for request id unless the FSM knows its outcome, which
// it then answers; concurrent calls with one id run one at a time, each
// looking at the FSM first, so at most one proposes the event.
func (d *Driver) once(ctx context.Context, reqID string, do func(*reqSlot) error) error {
	done := make(chan struct{})
	for {
		d.mu.Lock()
		f, busy := d.flights[reqID]
		if !busy {
			d.flights[reqID] = done
		}
		d.mu.Unlock()
		if !busy {
			break
		}
		select {
		case <-f:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer func() {
		d.mu.Lock()
		delete(d.flights, reqID)
		d.mu.Unlock()
		close(done)
	}()
	if r, ok := d.fsm().Request(reqID); ok {
		return r.Err
	}
	err := do(&reqSlot{id: reqID})
	if errors.Is(err, ErrDuplicate) {
		if r, ok := d.fsm().Request(reqID); ok {
			return r.Err
		}
	}
	return err
}
