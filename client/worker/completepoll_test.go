package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/queue"
)

// fused is a Conn with CompleteAndPoll, made of the two calls of the
// Conn inside, counting its calls.
type fused struct {
	Conn
	polls, fusedCalls, empty atomic.Int64
}

func (f *fused) PollTask(ctx context.Context, q, id string, wait time.Duration) (*Task, error) {
	f.polls.Add(1)
	return f.Conn.PollTask(ctx, q, id, wait)
}

func (f *fused) CompleteAndPoll(ctx context.Context, id, token string, result json.RawMessage, q, workerID string, wait time.Duration) (*Task, error) {
	f.fusedCalls.Add(1)
	if err := f.Conn.CompleteTask(ctx, id, token, result); err != nil {
		return nil, err
	}
	t, err := f.Conn.PollTask(ctx, q, workerID, wait)
	if t == nil && err == nil {
		f.empty.Add(1)
	}
	return t, err
}

// TestCompleteAndPollSteadyState: with a Conn that has CompleteAndPoll,
// every completion goes through it and brings the next task, so the
// worker polls on its own only for the first task and after a fused
// poll that came back empty; every job gets its own result.
func TestCompleteAndPollSteadyState(t *testing.T) {
	b := queue.New(queue.Options{})
	f := &fused{Conn: Local(b)}
	w, err := New(f, Options{Queue: "q", Log: quiet, PollWait: time.Second}, func(ctx context.Context, tk *Task) (any, error) {
		var in struct{ N int }
		if err := json.Unmarshal(tk.Input, &in); err != nil {
			return nil, err
		}
		return in.N * 2, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	const n = 20
	for i := range n {
		v, err := b.Submit(context.Background(), queue.Job{ID: fmt.Sprint("k", i), Queue: "q", Task: "t", Input: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
		if err != nil || string(v.(json.RawMessage)) != fmt.Sprint(2*i) {
			t.Fatalf("job %d: %s, %v", i, v, err)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := f.fusedCalls.Load(); got != n {
		t.Errorf("%d completions through CompleteAndPoll, want %d", got, n)
	}
	// Run's loop polls for the first task, after each empty fused poll,
	// and once more when it is stopped.
	if got, want := f.polls.Load(), 1+f.empty.Load(); got < want || got > want+1 {
		t.Errorf("%d plain polls with %d empty fused polls, want %d or %d", got, f.empty.Load(), want, want+1)
	}
}
