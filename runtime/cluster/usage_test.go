package cluster

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestUsageAt checks that a month counted at one replica's applied index
// is recounted exactly by any replica at that index, however far the
// log has moved on: a follower first waits until it has applied it, and
// an index beyond the log is refused as such by leader and follower.
func TestUsageAt(t *testing.T) {
	c := newTestCluster(t, compile(t, holdSource))
	n1 := c.add("n1", nil, nil)
	l := c.leader()
	n2 := c.join("n2", nil)
	month := UsageMonth(time.Now().UnixNano())
	for _, id := range []string{"a", "b"} {
		if err := l.Start(ctx(t), id, id, "Hold", nil); err != nil {
			t.Fatal(err)
		}
	}
	u1, err := n1.FSM().Usage(month)
	if err != nil || u1.Cases != 2 || u1.Applied == 0 || u1.LastIndex > u1.Applied {
		t.Fatalf("usage on the leader: %+v %v", u1, err)
	}
	if err := l.Start(ctx(t), "c", "c", "Hold", nil); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx(t), time.Minute)
	defer cancel()
	for _, n := range []*Node{n1, n2} {
		if err := n.WaitApplied(wctx, u1.Applied, time.Second); err != nil {
			t.Fatalf("%s: %v", n.ID(), err)
		}
		got, err := n.FSM().UsageAt(month, u1.Applied)
		if err != nil || got != u1 {
			t.Fatalf("%s at %d: %+v %v, want %+v", n.ID(), u1.Applied, got, err, u1)
		}
	}
	if now, _ := n1.FSM().Usage(month); now.Cases != 3 || now.Digest == u1.Digest {
		t.Fatalf("the log moved on, the count did not: %+v", now)
	}
	beyond := u1.Applied + 1<<40
	if _, err := n1.FSM().UsageAt(month, beyond); !errors.Is(err, ErrNotApplied) {
		t.Fatalf("counting beyond the applied index: %v", err)
	}
	for _, n := range []*Node{n1, n2} {
		if err := n.WaitApplied(wctx, beyond, time.Second); !errors.Is(err, ErrBeyondLog) {
			t.Fatalf("%s waiting beyond the log: %v", n.ID(), err)
		}
	}
	short, cancel2 := context.WithTimeout(ctx(t), 10*time.Millisecond)
	defer cancel2()
	if err := n2.WaitApplied(short, beyond, time.Hour); !errors.Is(err, ErrNotApplied) {
		t.Fatalf("a deadline before the answer: %v", err)
	}
}
