package cluster

import (
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// TestFollowerCatchesUpFromSnapshot compacts the leader's log and then
// adds a node: it cannot be sent the entries, so it gets the FSM's
// snapshot (the engine's case snapshots) and goes on from there.
func TestFollowerCatchesUpFromSnapshot(t *testing.T) {
	c := newTestCluster(t, compile(t, testSource))
	small := func(cfg *Config) {
		cfg.Timing.SnapshotThreshold = 8
		cfg.Timing.TrailingLogs = 2
		cfg.Timing.SnapshotInterval = 10 * time.Millisecond
	}
	c.add("n1", nil, small)
	l := c.leader()
	var ids []string
	for i := range 3 {
		id := fmt.Sprintf("s%d", i)
		ids = append(ids, id)
		if err := l.Start(ctx(t), "", id, "W", []any{id}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, id+" to wait", func() bool { return c.fx.count(id+"/2") == 1 })
		if err := l.Signal(ctx(t), "", id, "Go", []any{int64(3)}); err != nil {
			t.Fatal(err)
		}
		completed(t, l, id)
	}
	if err := l.r.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	if first, _ := strconv.Atoi(l.r.Stats()["last_snapshot_index"]); first < 10 {
		t.Fatalf("snapshot at index %d", first)
	}
	n2 := c.add("n2", nil, small)
	if err := l.Join(ctx(t), Member{ID: "n2", Raft: "n2", API: "api-n2"}, n2.ProgramHash()); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if got := completed(t, n2, id); got != int64(9) {
			t.Fatalf("case %s on n2 returned %v, want 9", id, got)
		}
	}
	if n2.FSM().Restores() == 0 {
		t.Fatal("n2 caught up without restoring a snapshot")
	}
	// The snapshot carried the cases' events, not only their states.
	for _, id := range ids {
		want, _, _ := l.FSM().CaseEvents(id)
		got, missing, _ := n2.FSM().CaseEvents(id)
		if missing != 0 || len(got) == 0 || !reflect.DeepEqual(got, want) {
			t.Fatalf("case %s on n2: %d events (%d missing), the leader has %d", id, len(got), missing, len(want))
		}
	}
	// A case started after the snapshot reaches n2 through the log.
	if err := l.Start(ctx(t), "", "after", "W", []any{"after"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new case on n2", func() bool { return n2.FSM().Events("after") > 0 })
	sameStates(t, c, append(ids, "after"))
}

// TestStaleReadIsOptIn reads on a follower: a linearizable read is
// refused there, a stale one answers and says how stale it is.
func TestStaleReadIsOptIn(t *testing.T) {
	c := threeNodes(t)
	l := c.leader()
	if err := l.Start(ctx(t), "", "r", "W", []any{"r"}); err != nil {
		t.Fatal(err)
	}
	v, err := l.Get(ctx(t), "r", Linearizable)
	if err != nil || v.Events == 0 {
		t.Fatalf("linearizable read on the leader: %+v %v", v, err)
	}
	for _, id := range []string{"n1", "n2", "n3"} {
		f := c.node(id)
		if f == l {
			continue
		}
		waitFor(t, "r on "+id, func() bool { return f.FSM().Events("r") > 0 })
		sv, err := f.Get(ctx(t), "r", Stale)
		if err != nil {
			t.Fatal(err)
		}
		if sv.Node != id || sv.Staleness <= 0 || sv.Staleness > 5*time.Second {
			t.Fatalf("stale read on %s: node %s staleness %v", id, sv.Node, sv.Staleness)
		}
	}
}
