package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/queue"
)

// batcher is a Batcher over a broker in the same process, as the server
// implements CompleteAndPollTasks, counting its calls. failEvery > 0
// makes every failEvery-th call fail after applying its outcomes and
// before polling (a reply lost on the way back); unsupported makes every
// call fail as an old server does.
type batcher struct {
	Conn
	b                      *queue.Broker
	failEvery              int64
	unsupported            bool
	calls, plain, mostDone atomic.Int64
	mostTasks              atomic.Int64
}

func (f *batcher) CompleteTask(ctx context.Context, id, token string, result json.RawMessage) error {
	f.plain.Add(1)
	return f.Conn.CompleteTask(ctx, id, token, result)
}

func raise(a *atomic.Int64, n int64) {
	for m := a.Load(); n > m && !a.CompareAndSwap(m, n); m = a.Load() {
	}
}

func (f *batcher) CompleteAndPollTasks(ctx context.Context, q, workerID string, done []Outcome, max int, wait time.Duration) ([]*Task, []error, error) {
	n := f.calls.Add(1)
	if f.unsupported {
		return nil, nil, fmt.Errorf("%w: unimplemented", errors.ErrUnsupported)
	}
	raise(&f.mostDone, int64(len(done)))
	errs := make([]error, len(done))
	var wg sync.WaitGroup
	for i, o := range done {
		wg.Go(func() {
			if o.Failed {
				errs[i] = lost(f.b.Fail(ctx, o.ID, o.LeaseToken, o.Failure))
			} else {
				errs[i] = lost(f.b.Complete(ctx, o.ID, o.LeaseToken, o.Result))
			}
		})
	}
	wg.Wait()
	if f.failEvery > 0 && n%f.failEvery == 0 {
		return nil, nil, errors.New("connection reset")
	}
	var tasks []*Task
	for len(tasks) < max {
		pctx, cancel := context.WithCancel(ctx)
		if len(tasks) > 0 || wait == 0 {
			cancel()
		} else {
			pctx, cancel = context.WithTimeout(ctx, wait)
		}
		t, err := f.Conn.PollTask(pctx, q, workerID, 0)
		cancel()
		if err != nil || t == nil {
			break
		}
		tasks = append(tasks, t)
	}
	raise(&f.mostTasks, int64(len(tasks)))
	return tasks, errs, nil
}

// runJobs submits n jobs of input {"n": i} to queue q of b, waits until
// they are all pending, runs a worker over c, and checks that each job
// gets 2*i exactly; it returns after stopping the worker.
func runJobs(t *testing.T, b *queue.Broker, c Conn, o Options, n int) {
	t.Helper()
	results := make([]any, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			results[i], errs[i] = b.Submit(context.Background(), queue.Job{ID: fmt.Sprint("k", i), Queue: "q", Task: "t", Input: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))})
		})
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(time.Millisecond) {
		if st := b.Stats(); len(st) == 1 && st[0].Pending == n {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("jobs not pending: %+v", st)
		}
	}
	o.Queue, o.Log, o.Batch = "q", quiet, true
	if o.PollWait == 0 {
		o.PollWait = time.Second
	}
	w, err := New(c, o, func(ctx context.Context, tk *Task) (any, error) {
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
	wg.Wait()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if errs[i] != nil || string(results[i].(json.RawMessage)) != fmt.Sprint(2*i) {
			t.Errorf("job %d: %s, %v", i, results[i], errs[i])
		}
	}
}

// TestBatchedWorker: a worker with 8 slots over a Batcher leases 8 tasks
// in one call, reports its finished tasks in batches, and makes no
// per-task call; every job gets its own result.
func TestBatchedWorker(t *testing.T) {
	b := queue.New(queue.Options{})
	f := &batcher{Conn: Local(b), b: b}
	runJobs(t, b, f, Options{Concurrency: 8}, 200)
	if f.mostTasks.Load() != 8 {
		t.Errorf("at most %d tasks leased by one call, want 8 (the free slots)", f.mostTasks.Load())
	}
	if f.plain.Load() != 0 || f.calls.Load() >= 200 {
		t.Errorf("%d batched and %d plain calls for 200 tasks", f.calls.Load(), f.plain.Load())
	}
	if f.mostDone.Load() < 2 {
		t.Errorf("at most %d completions in one call", f.mostDone.Load())
	}
}

// TestBatchedWorkerFailedCalls: batched calls whose answer is lost
// (applied, then an error) make the worker report those outcomes again
// with the plain calls, which the broker refuses as already finished:
// nothing is lost and nothing applied twice.
func TestBatchedWorkerFailedCalls(t *testing.T) {
	b := queue.New(queue.Options{})
	f := &batcher{Conn: Local(b), b: b, failEvery: 3}
	runJobs(t, b, f, Options{Concurrency: 4}, 60)
	if f.plain.Load() == 0 {
		t.Errorf("no outcome was sent again after %d batched calls", f.calls.Load())
	}
	if st := b.Stats(); st[0].Completed != 60 {
		t.Errorf("%+v: want 60 completed", st[0])
	}
}

// TestBatchedWorkerUnsupported: against a server without the batched
// call the worker goes back to one call per task after its first call.
func TestBatchedWorkerUnsupported(t *testing.T) {
	b := queue.New(queue.Options{})
	f := &batcher{Conn: Local(b), b: b, unsupported: true}
	runJobs(t, b, f, Options{Concurrency: 3}, 20)
	if f.calls.Load() != 1 || f.plain.Load() != 20 {
		t.Errorf("%d batched, %d plain calls; want 1 and 20", f.calls.Load(), f.plain.Load())
	}
}

// TestBatchedGracefulShutdown: a shutdown while tasks run lets them
// finish and report through the batch before Run returns.
func TestBatchedGracefulShutdown(t *testing.T) {
	b := queue.New(queue.Options{})
	f := &batcher{Conn: Local(b), b: b}
	release, started := make(chan struct{}), make(chan struct{}, 2)
	w, err := New(f, Options{Queue: "q", Log: quiet, Concurrency: 2, PollWait: time.Second, Batch: true}, func(ctx context.Context, tk *Task) (any, error) {
		started <- struct{}{}
		<-release
		return 7, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	res := make(chan any, 2)
	for i := range 2 {
		go func() {
			v, err := submit(context.Background(), b, fmt.Sprint("s", i))
			if err != nil {
				res <- err
				return
			}
			res <- string(v.(json.RawMessage))
		}()
	}
	<-started
	<-started
	cancel()
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if v := <-res; fmt.Sprint(v) != "7" {
			t.Errorf("result %s", v)
		}
	}
	if f.plain.Load() != 0 {
		t.Errorf("%d plain calls", f.plain.Load())
	}
}
