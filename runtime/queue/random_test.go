package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// TestRandomOperations drives a broker with random submits, withdrawals,
// polls, heartbeats, completions, failures, duplicates, stale tokens and
// short leases from many goroutines, and checks what must always hold:
// every Submit returns once, with a completion only from a Complete that
// returned nil; a nil Complete or Fail happens at most once per task; and
// the broker ends empty.
func TestRandomOperations(t *testing.T) {
	b := New(Options{Lease: 15 * time.Millisecond, RecordWait: time.Second})
	const jobs = 300
	var mu sync.Mutex
	accepted := map[string]string{} // ID -> "completed" or "failed", from calls that returned nil
	results := map[string]error{}   // ID -> what Submit returned
	var subs sync.WaitGroup
	for i := range jobs {
		subs.Go(func() {
			id := fmt.Sprint("k", i)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if rand.IntN(5) == 0 {
				time.AfterFunc(time.Duration(rand.IntN(20))*time.Millisecond, cancel)
			}
			j := Job{ID: id, Queue: fmt.Sprint("q", i%3), Input: json.RawMessage(`{}`), Durable: i%2 == 0}
			v, err := b.Submit(ctx, j)
			if j.Durable {
				b.Recorded(id, nil) // as the engine does once the outcome is logged
			}
			if err == nil && string(v.(json.RawMessage)) != `"`+id+`"` {
				t.Errorf("%s: Submit returned %s", id, v)
			}
			mu.Lock()
			results[id] = err
			mu.Unlock()
		})
	}
	stop := make(chan struct{})
	var workers sync.WaitGroup
	for w := range 6 {
		workers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
				tk, err := b.Poll(ctx, fmt.Sprint("q", rand.IntN(3)), fmt.Sprint("w", w))
				cancel()
				if err != nil {
					continue
				}
				if rand.IntN(3) == 0 {
					b.Heartbeat(context.Background(), tk.ID, tk.Token)
				}
				time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond) // sometimes past the lease
				token := tk.Token
				if rand.IntN(10) == 0 {
					token = "stale"
				}
				var what string
				if rand.IntN(4) == 0 {
					err, what = b.Fail(context.Background(), tk.ID, token, "no"), "failed"
				} else {
					err, what = b.Complete(context.Background(), tk.ID, token, json.RawMessage(`"`+tk.ID+`"`)), "completed"
				}
				mu.Lock()
				if err == nil {
					if prev, ok := accepted[tk.ID]; ok {
						t.Errorf("%s: %s accepted after %s", tk.ID, what, prev)
					}
					accepted[tk.ID] = what
				} else if !errors.Is(err, ErrLeaseLost) && !errors.Is(err, ErrFinished) && !errors.Is(err, ErrUnknownTask) && !errors.Is(err, ErrNotRecorded) {
					t.Errorf("%s: unexpected error %v", tk.ID, err)
				}
				mu.Unlock()
				if err == nil && rand.IntN(3) == 0 { // a duplicate of an accepted call
					if err := b.Complete(context.Background(), tk.ID, tk.Token, json.RawMessage(`"dup"`)); err == nil {
						t.Errorf("%s: duplicate completion accepted", tk.ID)
					}
				}
			}
		})
	}
	subs.Wait()
	close(stop)
	workers.Wait()
	for id, err := range results {
		var we *WorkerError
		switch got := accepted[id]; {
		case err == nil && got != "completed":
			t.Errorf("%s: Submit succeeded without an accepted completion (%q)", id, got)
		case err != nil && got == "completed":
			t.Errorf("%s: completion accepted but Submit failed: %v", id, err)
		case got == "failed" && !errors.As(err, &we):
			t.Errorf("%s: failure accepted but Submit returned %v", id, err)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.live) != 0 || len(b.unrec) != 0 {
		t.Fatalf("left behind: %d live, %d awaiting a record", len(b.live), len(b.unrec))
	}
	for name, q := range b.queues {
		if q.pending.Len() != 0 || q.leased != 0 || q.waiters.Len() != 0 {
			t.Errorf("queue %s not empty: %d pending, %d leased, %d waiting", name, q.pending.Len(), q.leased, q.waiters.Len())
		}
	}
}
