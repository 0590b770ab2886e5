package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/engine"
)

// slowLeader gives n1 a long lease, so that cut off from the others it
// goes on believing it leads for seconds while they elect a leader of
// their own: the window in which a deposed leader could answer from its
// own, stale copy.
func slowLeader(t *testing.T) *faultCluster {
	slow := Timing{Heartbeat: 3 * time.Second, Election: 3 * time.Second, Lease: 3 * time.Second, Commit: 5 * time.Millisecond, Tick: 20 * time.Millisecond}
	// The majority's timeouts scale with the race detector, as the other
	// tests' do: with a fixed 350 ms lease, a CI run on a loaded machine
	// waited 40 s without n2 or n3 leading and ready (a leader that
	// misses its lease steps down before its barrier commits).
	follower := Timing{Heartbeat: timingScale * 300 * time.Millisecond, Election: timingScale * 300 * time.Millisecond,
		Lease: timingScale * 150 * time.Millisecond, Commit: 5 * time.Millisecond, Tick: 20 * time.Millisecond}
	c := newFaultClusterTimed(t, compile(t, registerSource), newFaultNet(1), []string{"n1", "n2", "n3"},
		map[string]Timing{"n1": slow, "n2": follower, "n3": follower})
	if l := c.leader(t); l.ID() != "n1" {
		t.Fatalf("leader %s, want n1 (it bootstrapped)", l.ID())
	}
	return c
}

// newMajorityLeader cuts n1 off and waits for n2 or n3 to lead.
func newMajorityLeader(t *testing.T, c *faultCluster) *Node {
	c.net.isolate("n1", c.ids)
	// Pre-vote makes the two wait until both stopped hearing from
	// n1, which takes several election rounds on a loaded machine.
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		for _, id := range []string{"n2", "n3"} {
			if n := c.node(id); n.IsLeader() {
				return n
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("timed out waiting for a leader among n2 and n3")
	return nil
}

// TestDeposedLeaderDoesNotDenyCases signals, on a leader cut off from
// the majority, a case the majority started: the old leader must not
// answer "unknown case" from its copy (it has to confirm its lead,
// fail, and say it does not lead).
func TestDeposedLeaderDoesNotDenyCases(t *testing.T) {
	c := slowLeader(t)
	old := c.node("n1")
	l := newMajorityLeader(t, c)
	if err := l.Start(ctx(t), "s1", "k", "R", []any{"k"}); err != nil {
		t.Fatal(err)
	}
	leading := old.IsLeader()
	err := old.Signal(ctx(t), "g1", "k", "Set", []any{int64(5)})
	if errors.Is(err, engine.ErrUnknownCase) {
		t.Fatalf("the cut-off old leader denied a case the majority started: %v", err)
	}
	if err == nil {
		t.Fatal("the cut-off old leader acknowledged a signal")
	}
	t.Logf("old leader still believed it led: %v; its answer: %v", leading, err)
}

// TestDeposedLeaderRestartsFromItsLog has a leader cut off append a
// command it can never commit, rejoin (raft truncates that entry from
// its log), crash and restart from its directory. raft-wal v0.4.0 sealed
// the truncated segment without an index, and the restart panicked
// ("sealed segment has no index block"); v0.4.1 fixes it.
func TestDeposedLeaderRestartsFromItsLog(t *testing.T) {
	c := slowLeader(t)
	old := c.node("n1")
	if err := old.Start(ctx(t), "a", "a", "R", []any{"a"}); err != nil {
		t.Fatal(err)
	}
	l := newMajorityLeader(t, c)
	cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := old.Start(cctx, "b", "b", "R", []any{"b"}); err == nil {
		t.Fatal("a leader cut off from the majority acknowledged a start")
	}
	if err := l.Start(ctx(t), "c", "c", "R", []any{"c"}); err != nil {
		t.Fatal(err)
	}
	c.net.heal()
	waitFor(t, "n1 to hold the majority's case", func() bool { return old.FSM().Events("c") > 0 })
	c.stop("n1")
	back := c.start("n1", false)
	waitFor(t, "n1 to replay its log", func() bool { return back.FSM().Events("c") > 0 })
	if back.FSM().Events("b") != 0 {
		t.Fatal("the restarted node holds the start it never committed")
	}
	if err := c.leader(t).Signal(ctx(t), "s", "a", "Set", []any{int64(3)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "case a to complete on the restarted node", func() bool {
		st, _, ok := back.FSM().Case("a")
		return ok && st.Done()
	})
}
