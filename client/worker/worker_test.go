package worker

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/queue"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// start runs a worker on queue "q" of b until the returned stop is
// called; stop returns Run's error.
func start(t *testing.T, b *queue.Broker, o Options, h Handler) (stop func() error) {
	t.Helper()
	o.Queue, o.Log = "q", quiet
	if o.PollWait == 0 {
		o.PollWait = 50 * time.Millisecond
	}
	w, err := New(Local(b), o, h)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	var runErr error
	return func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(20 * time.Second):
				t.Error("Run did not return")
			}
		})
		return runErr
	}
}

func submit(ctx context.Context, b *queue.Broker, id string) (any, error) {
	return b.Submit(ctx, queue.Job{ID: id, Queue: "q", Task: "t", Input: json.RawMessage(`{"n":1}`)})
}

// TestHeartbeatsOutliveLease: a handler that runs for many leases keeps
// its task, because the worker heartbeats.
func TestHeartbeatsOutliveLease(t *testing.T) {
	// A lease long enough that a loaded machine (a race build, other
	// tests) does not starve three heartbeats in a row, and a handler
	// that outlives four of them.
	b := queue.New(queue.Options{Lease: 250 * time.Millisecond})
	stop := start(t, b, Options{}, func(ctx context.Context, tk *Task) (any, error) {
		select {
		case <-time.After(time.Second):
			return map[string]int{"n": 2}, nil
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	})
	defer stop()
	v, err := submit(context.Background(), b, "k1")
	if err != nil || string(v.(json.RawMessage)) != `{"n":2}` {
		t.Fatalf("submit = %s, %v", v, err)
	}
	if s := b.Stats(); s[0].Expired != 0 {
		t.Fatalf("a lease expired: %+v", s)
	}
}

// TestLeaseLostCancelsHandler: when the engine withdraws the attempt,
// the next heartbeat is refused and the handler's context ends with
// ErrLeaseLost; nothing is completed.
func TestLeaseLostCancelsHandler(t *testing.T) {
	b := queue.New(queue.Options{Lease: 60 * time.Millisecond})
	started := make(chan struct{})
	cause := make(chan error, 1)
	stop := start(t, b, Options{Heartbeat: 10 * time.Millisecond}, func(ctx context.Context, tk *Task) (any, error) {
		close(started)
		<-ctx.Done()
		cause <- context.Cause(ctx)
		return "too late", nil
	})
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan error, 1)
	go func() { _, err := submit(ctx, b, "k1"); res <- err }()
	<-started
	cancel()
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Fatalf("submit = %v", err)
	}
	if c := <-cause; !errors.Is(c, ErrLeaseLost) {
		t.Fatalf("handler's cause = %v, want ErrLeaseLost", c)
	}
	stop()
	if s := b.Stats(); s[0].Completed != 0 || s[0].Withdrawn != 1 {
		t.Fatalf("stats = %+v", s)
	}
}

func TestHandlerErrorAndPanicFail(t *testing.T) {
	b := queue.New(queue.Options{})
	stop := start(t, b, Options{ID: "w7"}, func(ctx context.Context, tk *Task) (any, error) {
		if tk.ID == "panics" {
			panic("boom")
		}
		return nil, errors.New("card declined")
	})
	defer stop()
	_, err := submit(context.Background(), b, "fails")
	var we *queue.WorkerError
	if !errors.As(err, &we) || we.Message != "card declined" || we.Worker != "w7" {
		t.Fatalf("submit = %v", err)
	}
	_, err = submit(context.Background(), b, "panics")
	if !errors.As(err, &we) || we.Message != "handler panicked: boom" {
		t.Fatalf("submit = %v", err)
	}
}

// TestGracefulShutdown: stopping Run lets the task in flight finish and
// complete; no new task is taken.
func TestGracefulShutdown(t *testing.T) {
	b := queue.New(queue.Options{})
	started, release := make(chan struct{}), make(chan struct{})
	stop := start(t, b, Options{}, func(ctx context.Context, tk *Task) (any, error) {
		close(started)
		<-release
		return "done", nil
	})
	res := make(chan error, 1)
	go func() { _, err := submit(context.Background(), b, "k1"); res <- err }()
	<-started
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	select {
	case <-stopped:
		t.Fatal("Run returned with a task in flight")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if err := <-res; err != nil {
		t.Fatalf("the task in flight was not completed: %v", err)
	}
	if s := b.Stats(); s[0].Pollers != 0 {
		t.Fatalf("a poll outlived Run: %+v", s)
	}
}

// TestDrainTimeoutFailsTask: a handler that does not finish within the
// drain time is cancelled and its task failed, so that the engine retries
// it at once.
func TestDrainTimeoutFailsTask(t *testing.T) {
	b := queue.New(queue.Options{})
	started := make(chan struct{})
	stop := start(t, b, Options{DrainTimeout: 30 * time.Millisecond}, func(ctx context.Context, tk *Task) (any, error) {
		close(started)
		<-ctx.Done()
		return nil, ctx.Err()
	})
	res := make(chan error, 1)
	go func() { _, err := submit(context.Background(), b, "k1"); res <- err }()
	<-started
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if err := <-res; err == nil || !strings.Contains(err.Error(), "worker shutting down") {
		t.Fatalf("submit = %v, want the task failed by the shutdown", err)
	}
}

func TestConcurrency(t *testing.T) {
	b := queue.New(queue.Options{})
	var running, most atomic.Int32
	stop := start(t, b, Options{Concurrency: 4}, func(ctx context.Context, tk *Task) (any, error) {
		n := running.Add(1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(20 * time.Millisecond)
		running.Add(-1)
		return 1, nil
	})
	defer stop()
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			if _, err := submit(context.Background(), b, string(rune('a'+i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if m := most.Load(); m < 2 || m > 4 {
		t.Fatalf("at most %d tasks ran at once, want 2..4", m)
	}
}

// flaky is a Conn whose heartbeats fail (the server unreachable) while
// down is set.
type flaky struct {
	Conn
	down atomic.Bool
}

func (f *flaky) Heartbeat(ctx context.Context, id, token string) (time.Time, error) {
	if f.down.Load() {
		return time.Time{}, errors.New("connection refused")
	}
	return f.Conn.Heartbeat(ctx, id, token)
}

// TestUnreachableServerLosesLease: heartbeats that fail past the lease
// deadline cancel the handler with ErrLeaseLost.
func TestUnreachableServerLosesLease(t *testing.T) {
	b := queue.New(queue.Options{Lease: 60 * time.Millisecond})
	c := &flaky{Conn: Local(b)}
	c.down.Store(true)
	cause := make(chan error, 1)
	w, err := New(c, Options{Queue: "q", Log: quiet, Heartbeat: 10 * time.Millisecond}, func(ctx context.Context, tk *Task) (any, error) {
		<-ctx.Done()
		cause <- context.Cause(ctx)
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	_, serr := submit(context.Background(), b, "k1")
	if !errors.Is(serr, queue.ErrLeaseExpired) {
		t.Fatalf("submit = %v", serr)
	}
	if c := <-cause; !errors.Is(c, ErrLeaseLost) || !strings.Contains(c.Error(), "connection refused") {
		t.Fatalf("cause = %v", c)
	}
}

func TestNewRejects(t *testing.T) {
	b := queue.New(queue.Options{})
	h := func(context.Context, *Task) (any, error) { return nil, nil }
	if _, err := New(Local(b), Options{}, h); err == nil || !strings.Contains(err.Error(), "Options.Queue is empty") {
		t.Fatalf("New without a queue = %v", err)
	}
	if _, err := New(Local(b), Options{Queue: "q"}, nil); err == nil {
		t.Fatal("New without a handler succeeded")
	}
}
