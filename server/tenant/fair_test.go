package tenant

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/knhk/knhk/server/auth"
)

// TestInFlightGate: a tenant's calls past its in-flight bound wait for a
// slot (not refused), those past its queue are refused naming the limit,
// and a waiting call whose client gave up leaves the queue.
func TestInFlightGate(t *testing.T) {
	if newGate(Quota{}) != nil {
		t.Fatal("a tenant without a quota is bounded")
	}
	if newGate(Quota{Rate: 5}) != nil {
		t.Fatal("a rate alone bounds the calls in flight")
	}
	g := newGate(Quota{InFlight: 1})
	ctx := context.Background()
	first, err := g.enter(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	entered := make(chan func())
	go func() {
		rel, err := g.enter(ctx, "acme")
		if err != nil {
			t.Error(err)
		}
		entered <- rel
	}()
	// It waits at the gate (a condition, not a sleep of a guessed length).
	for deadline := time.Now().Add(20 * time.Second); g.waiting.Load() != 1; {
		select {
		case <-entered:
			t.Fatal("a second call passed a gate of one")
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the second call neither waited nor passed")
		}
		runtime.Gosched()
	}
	first()
	(<-entered)()
	// Fill the slot and the queue with calls that give up at once.
	hold, _ := g.enter(ctx, "acme")
	g.waiting.Store(g.queue)
	if _, err := g.enter(ctx, "acme"); !errors.Is(err, ErrQuota) || !strings.Contains(err.Error(), "in_flight (1) reached for tenant acme") {
		t.Fatalf("past the queue: %v", err)
	}
	g.waiting.Store(0)
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := g.enter(gone, "acme"); !errors.Is(err, context.Canceled) || g.waiting.Load() != 0 {
		t.Fatalf("a call given up: %v, %d waiting", err, g.waiting.Load())
	}
	hold()
	for path, want := range map[string]bool{
		auth.ServicePath + "StartCase":    true,
		auth.ServicePath + "WaitCase":     false,
		auth.ServicePath + "WatchHistory": false,
		"/console/api/cases":              false,
	} {
		if gated(path) != want {
			t.Errorf("gated(%s) = %v", path, !want)
		}
	}
}

// TestBucketTurns: callers refused one after another while the bucket is
// empty get successive turns 1/rate apart (not all the time of the next
// token), a caller back at its turn passes, and turns are handed out at
// most maxTurnAhead ahead.
func TestBucketTurns(t *testing.T) {
	now := time.Unix(1000, 0)
	b := newBucket(Quota{Rate: 10, Burst: 1}, now)
	if ok, _ := b.take(now); !ok {
		t.Fatal("the burst")
	}
	var waits []time.Duration
	for i := 0; i < 3; i++ {
		ok, w := b.take(now)
		if ok {
			t.Fatalf("call %d passed an empty bucket", i)
		}
		waits = append(waits, w)
	}
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond}
	for i := range want {
		if d := waits[i] - want[i]; d < -time.Millisecond || d > time.Millisecond {
			t.Fatalf("turns %v, want %v", waits, want)
		}
	}
	if ok, _ := b.take(now.Add(waits[0])); !ok {
		t.Fatal("the first caller back at its turn was refused")
	}
	for i := 0; i < 500; i++ {
		b.take(now.Add(waits[0]))
	}
	if _, w := b.take(now.Add(waits[0])); w > maxTurnAhead {
		t.Fatalf("a turn %v ahead", w)
	}
}
