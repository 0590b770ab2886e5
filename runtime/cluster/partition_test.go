package cluster

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestMinorityNeverAcknowledges cuts the leader off: its write is not
// acknowledged, the majority elects a leader that takes the retried
// request, and once the partition heals every node holds the majority's
// history, with the task run once.
func TestMinorityNeverAcknowledges(t *testing.T) {
	c := threeNodes(t)
	old := c.leader()
	c.partition(old.ID())
	cctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	err := old.Start(cctx, "m1", "p1", "W", []any{"p1"})
	if err == nil {
		t.Fatal("a leader cut off from the majority acknowledged a start")
	}
	if !errors.Is(err, ErrMaybeCommitted) && !errors.Is(err, ErrNotLeader) {
		t.Fatalf("minority start: %v, want ErrMaybeCommitted or ErrNotLeader", err)
	}
	var l *Node
	waitFor(t, "a leader in the majority", func() bool {
		for _, id := range []string{"n1", "n2", "n3"} {
			if n := c.node(id); id != old.ID() && n.IsLeader() {
				l = n
				return true
			}
		}
		return false
	})
	// The client retries its request with the same id: it had not
	// committed, so it is applied now.
	if err := l.Start(ctx(t), "m1", "p1", "W", []any{"p1"}); err != nil {
		t.Fatalf("retried start on the new leader: %v", err)
	}
	waitFor(t, "p1 to wait", func() bool { return c.fx.count("p1/2") == 1 })
	c.heal(old.ID())
	sameStates(t, c, []string{"p1"})
	if n := c.fx.count("p1/1"); n != 1 {
		t.Fatalf("step 1 of p1 ran %d times, want 1", n)
	}
	if !old.IsLeader() {
		if err := old.Signal(ctx(t), "", "p1", "Go", []any{int64(1)}); !errors.Is(err, ErrNotLeader) {
			t.Fatalf("signal on the old leader, now a follower: %v, want ErrNotLeader", err)
		}
	}
}
