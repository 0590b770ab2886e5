package cluster

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/knhk/knhk/runtime/engine"
)

// historyRead reads a case the way knhk history does: the leader
// confirms it leads, then folds the case's replicated events (not its
// state) into the state the client sees. The Jepsen test mixes it with
// linearizableRead, so that the recorded history checks that the events
// a history read returns are as current as a linearizable read.
func historyRead(ctx context.Context, c *faultCluster, key string) (*View, error) {
	l := c.current()
	if l == nil {
		return nil, ErrNotLeader
	}
	if err := l.VerifyLeader(); err != nil {
		return nil, err
	}
	evs, missing, ok := l.FSM().CaseEvents(key)
	if !ok {
		return nil, fmt.Errorf("%w %s", engine.ErrUnknownCase, key)
	}
	if missing != 0 {
		return nil, fmt.Errorf("case %s lacks %d events", key, missing)
	}
	st := &engine.State{ID: key}
	m := l.Machine()
	for i, e := range evs {
		ev, err := engine.DecodeEvent(e.Data)
		if err != nil {
			return nil, err
		}
		if err := m.Apply(st, ev); err != nil {
			return nil, fmt.Errorf("case %s event %d: %w", key, i, err)
		}
	}
	return &View{State: st, Events: uint64(len(evs))}, nil
}

// mixedReads alternates linearizableRead and historyRead.
func mixedReads() reader {
	var n atomic.Int64
	return func(ctx context.Context, c *faultCluster, key string) (*View, error) {
		if n.Add(1)%2 == 0 {
			return historyRead(ctx, c, key)
		}
		return linearizableRead(ctx, c, key)
	}
}
