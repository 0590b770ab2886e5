// This file implements the replication seam: the engine's event log on
// the leader, where appending an event proposes it to the cluster.

package cluster

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/knhk/knhk/runtime/engine"
)

// raftLog is the [engine.Snapshotter] of the leader's engine. Append
// proposes the event at the position the case's FSM copy has reached
// and returns once the event is committed and applied there, so the
// engine applies an event to its own copy only after the cluster did.
// The engine's own snapshots are not needed (raft snapshots the FSM),
// and recovery starts from the FSM's copy of the case, with no events
// after it.
type raftLog struct {
	n    *Node
	hash string // the program of the engine's cases
}

var _ engine.Snapshotter = (*raftLog)(nil)

// errNoReplay is returned by Replay: the cluster keeps states, and its
// events only until raft compacts them.
var errNoReplay = errors.New("the cluster log replays a case from its replicated state, not from its events")

func (l *raftLog) Append(ctx context.Context, caseID string, ev *engine.Event) error {
	b, err := engine.EncodeEvent(ev)
	if err != nil {
		return err
	}
	c := &Command{Op: OpEvent, Program: l.hash, Case: caseID, Pos: l.n.fsm.Events(caseID), Event: b}
	slot := slotOf(ctx)
	if slot != nil && !slot.used.CompareAndSwap(false, true) {
		slot = nil
	}
	if slot != nil {
		c.ReqID, c.Key, c.Nonce = slot.id, slot.key, slot.nonce
		c.Audit, c.rider = slot.audit, slot.rider
	}
	_, err = l.n.propose(ctx, c)
	if slot != nil {
		slot.done <- err
	}
	return err
}

func (l *raftLog) Replay(context.Context, string, func(*engine.Event) error) error {
	return errNoReplay
}

func (l *raftLog) SaveSnapshot(context.Context, string, []byte) error { return nil }

func (l *raftLog) ReplaySnapshot(ctx context.Context, caseID string, restore func([]byte) error, _ func(*engine.Event) error) error {
	b, ok, err := l.n.fsm.Encoded(caseID)
	if err != nil || !ok {
		return err
	}
	return restore(b)
}

// reqSlot carries a client's request id to the first event appended on
// its behalf (the start, signal or cancel event), and reports that
// event's outcome.
type reqSlot struct {
	id  string
	key string // the business key of a start
	// nonce is the request's one-time keys (nonce.go), nil for none.
	nonce *Nonce
	// audit and rider are the request's audit record riding in the
	// event (auditride.go), nil for none.
	audit *AuditRecord
	rider *AuditRider
	used  atomic.Bool
	done  chan error // buffered: one outcome
}

type slotKey struct{}

func newSlot(id string) *reqSlot { return &reqSlot{id: id, done: make(chan error, 1)} }

func withSlot(ctx context.Context, s *reqSlot) context.Context {
	return context.WithValue(ctx, slotKey{}, s)
}

func slotOf(ctx context.Context) *reqSlot {
	s, _ := ctx.Value(slotKey{}).(*reqSlot)
	return s
}
