// This file implements the catching-up rule of stale reads on a node
// that seals per case (a tenant created with --encrypt): a node that
// was down while a case was erased comes back with the case still in
// its snapshot, and drops it only when it applies the erasure. Until it
// has once applied what its leader had applied, it serves no stale read
// of its own copy, so that no node reads an erased case back.

package cluster

import (
	"context"
	"fmt"

	"github.com/hashicorp/raft"
)

// catchingUpError refuses a stale read on a node that has not caught up
// since it started; it is ErrMaybeCommitted for whoever maps errors
// (the API answers "unavailable": retry, or read from the leader).
type catchingUpError struct {
	node             string
	applied, leading uint64
}

func (e *catchingUpError) Error() string {
	return fmt.Sprintf("node %s is catching up with the cluster since it started (applied index %d, the leader %d): read from the leader, or retry", e.node, e.applied, e.leading)
}

func (e *catchingUpError) Is(target error) bool { return target == ErrMaybeCommitted }

// StaleReady returns nil when the node may serve a stale read from its
// own copy: always, unless it seals per case and has not yet, since it
// started, applied what its leader had applied when it first asked.
func (n *Node) StaleReady(ctx context.Context) error {
	if n.shred == nil || n.caughtUp.Load() || n.r.State() == raft.Leader {
		return nil
	}
	a := n.catchUpTo.Load()
	if a == 0 {
		// The leader's applied index, asked once: under steady writes
		// the node is always a little behind the leader's latest.
		_, lid := n.r.LeaderWithID()
		m, ok := n.fsm.Members()[string(lid)]
		if lid == "" || !ok {
			return &catchingUpError{node: n.cfg.ID, applied: n.r.AppliedIndex()}
		}
		var err error
		if a, err = n.prober().Applied(ctx, m); err != nil || a == 0 {
			return &catchingUpError{node: n.cfg.ID, applied: n.r.AppliedIndex()}
		}
		n.catchUpTo.CompareAndSwap(0, a)
	}
	if mine := n.r.AppliedIndex(); mine < a {
		return &catchingUpError{node: n.cfg.ID, applied: mine, leading: a}
	}
	n.caughtUp.Store(true)
	return nil
}
