package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"
)

// waitStats waits until cond holds of the billing queue's stats.
func waitStats(t *testing.T, b *Broker, what string, cond func(QueueStats) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, s := range b.Stats() {
			if s.Queue == "billing" && cond(s) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s: %+v", what, b.Stats())
		}
		time.Sleep(time.Millisecond)
	}
}

// TestPollN: a poll for several tasks takes those pending, at most its
// max, oldest first; a waiting one is handed tasks until it is full and
// returns them together; the newest poller is served first; a poll that
// ends as it is handed a task returns it or gives it back to the queue;
// a max below one is refused.
func TestPollN(t *testing.T) {
	b := New(Options{})
	ctx := context.Background()
	for i := range 3 {
		submit(ctx, b, job(fmt.Sprint("p", i)))
		waitStats(t, b, "pending", func(s QueueStats) bool { return s.Pending == i+1 })
	}
	ts, err := b.PollN(ctx, "billing", "w", 2)
	if err != nil || len(ts) != 2 || ts[0].ID != "p0" || ts[1].ID != "p1" {
		t.Fatalf("PollN of pending = %+v, %v; want p0, p1", ts, err)
	}
	if ts, err := b.PollN(ctx, "billing", "w", 5); err != nil || len(ts) != 1 || ts[0].ID != "p2" {
		t.Fatalf("PollN of the last pending = %+v, %v; want p2", ts, err)
	}

	// An older poller for one task and a newer one for two: the newer
	// takes the next two tasks, the older the third.
	older, newer := make(chan []Task, 1), make(chan []Task, 1)
	go func() { ts, _ := b.PollN(ctx, "billing", "old", 1); older <- ts }()
	waitStats(t, b, "the older poller", func(s QueueStats) bool { return s.Pollers == 1 })
	go func() { ts, _ := b.PollN(ctx, "billing", "new", 2); newer <- ts }()
	waitStats(t, b, "both pollers", func(s QueueStats) bool { return s.Pollers == 2 })
	b.mu.Lock() // hand both tasks before the newer poller wakes up
	for _, id := range []string{"n0", "n1"} {
		e := &entry{job: job(id), done: make(chan struct{})}
		b.live[id] = e
		b.enqueue(b.queue("billing"), e)
	}
	b.mu.Unlock()
	if ts := <-newer; len(ts) != 2 || ts[0].ID != "n0" || ts[1].ID != "n1" || ts[0].Token == "" {
		t.Fatalf("the newer poller got %+v, want n0 and n1 together", ts)
	}
	submit(ctx, b, job("n2"))
	if ts := <-older; len(ts) != 1 || ts[0].ID != "n2" {
		t.Fatalf("the older poller got %+v, want n2", ts)
	}

	// A poll that ends as it is handed a task either returns it or
	// gives it back to the queue: it is never lost.
	pctx, cancel := context.WithCancel(ctx)
	type result struct {
		ts  []Task
		err error
	}
	ended := make(chan result, 1)
	go func() { ts, err := b.PollN(pctx, "billing", "gone", 3); ended <- result{ts, err} }()
	waitStats(t, b, "the poller", func(s QueueStats) bool { return s.Pollers == 1 })
	b.mu.Lock()
	cancel()
	e := &entry{job: job("g0"), done: make(chan struct{})}
	b.live["g0"] = e
	b.enqueue(b.queue("billing"), e)
	b.mu.Unlock()
	switch r := <-ended; {
	case r.err == nil:
		if len(r.ts) != 1 || r.ts[0].ID != "g0" {
			t.Fatalf("ended poll returned %+v, want g0", r.ts)
		}
	case errors.Is(r.err, context.Canceled):
		tk := poll(t, b, "billing", "w2")
		if tk.ID != "g0" {
			t.Fatalf("after the ended poll: %+v, want g0 again", tk)
		}
		if err := b.Complete(ctx, "g0", "stale", json.RawMessage(`1`)); !errors.Is(err, ErrLeaseLost) {
			t.Fatalf("a stale token = %v, want lease lost", err)
		}
	default:
		t.Fatalf("ended poll = %v", r.err)
	}

	if _, err := b.PollN(ctx, "billing", "w", 0); !errors.Is(err, ErrBadRequest) {
		t.Fatalf("PollN of 0 = %v, want ErrBadRequest", err)
	}
}

// TestFullPollersPassTasksOn: the newest poller is served first, but
// only until it has no room left; the next tasks go to the older
// pollers, so that under load every waiting worker gets work and no
// task waits while one of them is idle.
func TestFullPollersPassTasksOn(t *testing.T) {
	b := New(Options{})
	ctx := context.Background()
	const pollers, room = 3, 2
	got := make([]chan []Task, pollers)
	for i := range pollers {
		got[i] = make(chan []Task, 1)
		go func() {
			ts, err := b.PollN(ctx, "billing", fmt.Sprint("w", i), room)
			if err != nil {
				t.Error(err)
			}
			got[i] <- ts
		}()
		waitStats(t, b, "the pollers", func(s QueueStats) bool { return s.Pollers == i+1 })
	}
	for i := range pollers * room {
		submit(ctx, b, job(fmt.Sprint("t", i)))
	}
	handed := map[string]bool{}
	for i := range pollers {
		ts := <-got[i]
		if len(ts) == 0 || len(ts) > room {
			t.Fatalf("poller w%d got %d tasks, want 1 to %d (the newer ones were full)", i, len(ts), room)
		}
		for _, tk := range ts {
			if handed[tk.ID] {
				t.Fatalf("task %s handed twice", tk.ID)
			}
			handed[tk.ID] = true
		}
	}
	// A poller that woke up before it was full took what it had; the
	// rest wait for the next poll.
	waitStats(t, b, "every task leased or pending", func(s QueueStats) bool {
		return s.Leased == len(handed) && s.Pending == pollers*room-len(handed)
	})
}

// TestRetryGoesToTheOldestPoller: a first attempt goes to the newest
// poller, a retry to the oldest: the newest is likely the worker that
// just failed the previous attempt and polled again at once, and would
// otherwise take every retry while the others wait.
func TestRetryGoesToTheOldestPoller(t *testing.T) {
	b := New(Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan string, 2) // "poller task"
	for i, name := range []string{"older", "newer"} {
		go func() {
			if tk, err := b.Poll(ctx, "billing", name); err == nil {
				got <- name + " " + tk.ID
			}
		}()
		waitStats(t, b, "the pollers", func(s QueueStats) bool { return s.Pollers == i+1 })
	}
	retry := job("r")
	retry.Attempt = 2
	for _, c := range []struct {
		j    Job
		want string
	}{{retry, "older r"}, {job("f"), "newer f"}} {
		submit(ctx, b, c.j)
		select {
		case g := <-got:
			if g != c.want {
				t.Fatalf("poller and task: %q, want %q", g, c.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no poller got a task; want %q", c.want)
		}
	}
}
