package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
)

// threeNodes starts a cluster of three voters.
func threeNodes(t *testing.T) *testCluster {
	c := newTestCluster(t, compile(t, testSource))
	c.add("n1", nil, nil)
	c.leader()
	c.join("n2", nil)
	c.join("n3", nil)
	waitFor(t, "three voters", func() bool { return len(c.voters()) == 3 })
	return c
}

// completed waits until case id has completed on node n and returns its
// result.
func completed(t *testing.T, n *Node, id string) any {
	t.Helper()
	var st *engine.State
	waitFor(t, "case "+id+" on "+n.ID(), func() bool {
		st, _, _ = n.FSM().Case(id)
		return st != nil && st.Done()
	})
	if st.Status != engine.Completed {
		t.Fatalf("case %s is %v on %s", id, st.Status, n.ID())
	}
	return eval.Plain(st.Result)
}

// sameStates checks that every node holds the same encoding of every
// case: the replicas applied the same events.
func sameStates(t *testing.T, c *testCluster, ids []string) {
	t.Helper()
	c.mu.Lock()
	nodes := sortedKeys(c.nodes)
	c.mu.Unlock()
	for _, id := range ids {
		var want []byte
		waitFor(t, "replicas of "+id+" to agree", func() bool {
			want = nil
			for _, nid := range nodes {
				b, ok, err := c.node(nid).FSM().Encoded(id)
				if err != nil || !ok {
					return false
				}
				if want == nil {
					want = b
				} else if !bytes.Equal(b, want) {
					return false
				}
			}
			return true
		})
	}
}

func TestReplicatedCases(t *testing.T) {
	c := threeNodes(t)
	l := c.leader()
	term0 := l.r.Stats()["term"]
	var ids []string
	for i := range 4 {
		id := fmt.Sprintf("c%d", i)
		ids = append(ids, id)
		if err := l.Start(ctx(t), "start-"+id, id, "W", []any{id}); err != nil {
			t.Fatal(err)
		}
	}
	// Two cases get their signal; the other two take the timer, which
	// only the leader fires.
	for _, id := range ids[:2] {
		waitFor(t, id+" to wait", func() bool { return c.fx.count(id+"/2") == 1 })
		if err := l.Signal(ctx(t), "go-"+id, id, "Go", []any{int64(7)}); err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range ids {
		want := int64(6 + 7)
		if i >= 2 {
			want = 6 + 100
		}
		for _, nid := range []string{"n1", "n2", "n3"} {
			if got := completed(t, c.node(nid), id); got != want {
				t.Errorf("case %s on %s returned %v, want %d", id, nid, got, want)
			}
		}
	}
	sameStates(t, c, ids)
	// Each step ran once, unless the leader changed (a slow machine can
	// miss the tests' short heartbeats): then a call in flight runs
	// again on the new leader, at least once as documented.
	if term := l.r.Stats()["term"]; term != term0 || !l.IsLeader() {
		t.Logf("the leader changed (term %s, then %s): not counting calls", term0, term)
		return
	}
	for _, id := range ids {
		for s := 1; s <= 3; s++ {
			if n := c.fx.count(fmt.Sprintf("%s/%d", id, s)); n != 1 {
				t.Errorf("%s step %d ran %d times", id, s, n)
			}
		}
	}
}

func TestFollowerRefusesAndNamesLeader(t *testing.T) {
	c := threeNodes(t)
	l := c.leader()
	var f *Node
	for _, id := range []string{"n1", "n2", "n3"} {
		if id != l.ID() {
			f = c.node(id)
			break
		}
	}
	err := f.Start(ctx(t), "r", "x", "W", []any{"x"})
	var nl *NotLeaderError
	if !errors.As(err, &nl) || nl.ID != l.ID() || nl.API != "api-"+l.ID() {
		t.Fatalf("start on a follower: %v, want a NotLeaderError naming %s", err, l.ID())
	}
	if _, err := f.Get(ctx(t), "x", Linearizable); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("linearizable read on a follower: %v, want ErrNotLeader", err)
	}
}

func TestLeaderKillContinuesAcknowledgedCases(t *testing.T) {
	c := threeNodes(t)
	c.fx.mu.Lock()
	c.fx.hold = make(chan struct{})
	c.fx.mu.Unlock()
	old := c.leader()
	var ids []string
	for i := range 3 {
		id := fmt.Sprintf("k%d", i)
		ids = append(ids, id)
		if err := old.Start(ctx(t), "start-"+id, id, "W", []any{id}); err != nil {
			t.Fatal(err)
		}
	}
	// Every case is inside its first step on the old leader.
	for _, id := range ids {
		waitFor(t, id+" step 1", func() bool { return c.fx.count(id+"/1") == 1 })
	}
	killed := time.Now()
	c.kill(old.ID())
	c.fx.mu.Lock()
	close(c.fx.hold)
	c.fx.hold = nil
	c.fx.mu.Unlock()
	l := c.leader()
	t.Logf("failover: %v from the kill to a new leader running its engine (100ms heartbeat and election timeouts)", time.Since(killed))
	if l.ID() == old.ID() {
		t.Fatal("the killed node still leads")
	}
	for _, id := range ids {
		waitFor(t, id+" to wait for Go", func() bool { return c.fx.count(id+"/2") >= 1 })
		if err := l.Signal(ctx(t), "go-"+id, id, "Go", []any{int64(1)}); err != nil {
			t.Fatal(err)
		}
		if got := completed(t, l, id); got != int64(7) {
			t.Errorf("case %s returned %v, want 7", id, got)
		}
		// The call cut off by the kill ran again, with the same key;
		// the others ran once.
		if n := c.fx.count(id + "/1"); n != 2 {
			t.Errorf("%s step 1 ran %d times, want 2 (once per leader)", id, n)
		}
		if n := c.fx.count(id + "/3"); n != 1 {
			t.Errorf("%s step 3 ran %d times, want 1", id, n)
		}
	}
	sameStates(t, c, ids)
}

func TestRetriedRequestAppliesOnce(t *testing.T) {
	c := threeNodes(t)
	l := c.leader()
	if err := l.Start(ctx(t), "req-1", "r1", "W", []any{"r1"}); err != nil {
		t.Fatal(err)
	}
	// The client did not hear back and retries with the same id: the
	// answer is the first one's, and nothing starts twice.
	if err := l.Start(ctx(t), "req-1", "r1", "W", []any{"r1"}); err != nil {
		t.Fatalf("retried start: %v", err)
	}
	if err := l.Start(ctx(t), "req-2", "r1", "W", []any{"r1"}); !errors.Is(err, ErrCaseExists) {
		t.Fatalf("a new start of r1: %v, want ErrCaseExists", err)
	}
	waitFor(t, "r1 to wait", func() bool { return c.fx.count("r1/2") == 1 })
	n := l.FSM().Events("r1")
	for range 2 {
		if err := l.Signal(ctx(t), "sig-1", "r1", "Go", []any{int64(5)}); err != nil {
			t.Fatal(err)
		}
	}
	if got := completed(t, l, "r1"); got != int64(11) {
		t.Fatalf("r1 returned %v, want 11 (one Go)", got)
	}
	// One signal event, then the step and the return: a second signal
	// would have been buffered or refused, not counted here, so count
	// the signals in the FSM's remembered requests instead.
	if r, ok := l.FSM().Request("sig-1"); !ok || r.Err != nil {
		t.Fatalf("request sig-1: %+v %v", r, ok)
	}
	if l.FSM().Events("r1") <= n {
		t.Fatal("the signal added no event")
	}
	// A command replayed at a position the case has passed is refused.
	b, _ := engine.EncodeEvent(&engine.Event{Kind: engine.EvCancel})
	_, err := l.propose(ctx(t), &Command{Op: OpEvent, Program: l.hash, Case: "r1", Pos: n, Event: b})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("a stale position: %v, want ErrConflict", err)
	}
}

func TestMembershipOneAtATime(t *testing.T) {
	c := threeNodes(t)
	c.join("n4", nil)
	c.join("n5", nil)
	// The leader aims for three voters: the rest stay non-voters.
	waitFor(t, "n4 and n5 to catch up", func() bool {
		a, _ := c.Applied(ctx(t), Member{ID: "n5"})
		return a > 0
	})
	if v := c.voters(); len(v) != 3 {
		t.Fatalf("voters %v, want 3", v)
	}
	l := c.leader()
	// A reused id at another address is refused; so is another program.
	if err := l.Join(ctx(t), Member{ID: "n2", Raft: "elsewhere"}, l.ProgramHash()); !errors.Is(err, ErrIDInUse) {
		t.Fatalf("reused id: %v, want ErrIDInUse", err)
	}
	if err := l.Join(ctx(t), Member{ID: "n9", Raft: "n9"}, "0000"); !errors.Is(err, ErrProgram) {
		t.Fatalf("other program: %v, want ErrProgram", err)
	}
	// Removing a voter lets placement promote a caught-up non-voter.
	victim := ""
	for _, v := range c.voters() {
		if v != l.ID() {
			victim = v
			break
		}
	}
	if err := l.Remove(ctx(t), victim); err != nil {
		t.Fatal(err)
	}
	c.kill(victim)
	waitFor(t, "a non-voter promoted", func() bool {
		v := c.voters()
		return len(v) == 3 && !slices.Contains(v, victim)
	})
	if err := l.Join(ctx(t), Member{ID: victim, Raft: victim}, l.ProgramHash()); !errors.Is(err, ErrIDInUse) {
		t.Fatalf("a removed id joining again: %v, want ErrIDInUse", err)
	}
	st, err := l.Status()
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Members) != 4 || st.Leader != l.ID() {
		t.Fatalf("status %+v", st)
	}
}

// TestConcurrentStarts sends one request many times at once (a client
// retrying before the first attempt answered), and many requests that
// start the same case: each case starts once.
func TestConcurrentStarts(t *testing.T) {
	c := threeNodes(t)
	l := c.leader()
	term0 := l.r.Stats()["term"]
	const n = 8
	errs := make(chan error, 2*n)
	for i := range n {
		go func() { errs <- l.Start(ctx(t), "same", "d1", "W", []any{"d1"}) }()
		go func() { errs <- l.Start(ctx(t), fmt.Sprintf("other-%d", i), "d2", "W", []any{"d2"}) }()
	}
	ok, exists := 0, 0
	for range 2 * n {
		switch err := <-errs; {
		case err == nil:
			ok++
		case errors.Is(err, ErrCaseExists):
			exists++
		default:
			t.Fatal(err)
		}
	}
	// Every "same" answers as its first attempt did; one "other" starts d2.
	if ok != n+1 || exists != n-1 {
		t.Fatalf("%d starts succeeded and %d found the case, want %d and %d", ok, exists, n+1, n-1)
	}
	for _, id := range []string{"d1", "d2"} {
		waitFor(t, id+" to wait", func() bool { return c.fx.count(id+"/2") >= 1 })
	}
	if l.r.Stats()["term"] != term0 {
		t.Skip("the leader changed: calls may have run again")
	}
	for _, k := range []string{"d1/1", "d2/1", "d1/2", "d2/2"} {
		if got := c.fx.count(k); got != 1 {
			t.Errorf("%s ran %d times, want 1", k, got)
		}
	}
}
