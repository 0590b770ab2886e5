package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// submit runs b.Submit in the background and returns its outcome channel.
func submit(ctx context.Context, b *Broker, j Job) <-chan outcome {
	ch := make(chan outcome, 1)
	go func() {
		v, err := b.Submit(ctx, j)
		ch <- outcome{v, err}
	}()
	return ch
}

type outcome struct {
	val any
	err error
}

func job(id string) Job {
	return Job{ID: id, Queue: "billing", Task: "charge", CaseID: "c1", Attempt: 1,
		Input: json.RawMessage(`{"amount":12.5}`)}
}

func poll(t *testing.T, b *Broker, queue, worker string) Task {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tk, err := b.Poll(ctx, queue, worker)
	if err != nil {
		t.Fatalf("poll %s: %v", queue, err)
	}
	return tk
}

func TestRoundTrip(t *testing.T) {
	b := New(Options{})
	res := submit(context.Background(), b, job("k1"))
	tk := poll(t, b, "billing", "w1")
	if tk.ID != "k1" || tk.Task != "charge" || string(tk.Input) != `{"amount":12.5}` || tk.Token == "" {
		t.Fatalf("delivery = %+v", tk)
	}
	if s := b.Stats(); len(s) != 1 || s[0].Leased != 1 || s[0].Pending != 0 {
		t.Fatalf("stats while leased = %+v", s)
	}
	if err := b.Complete(context.Background(), tk.ID, tk.Token, json.RawMessage(`"paid"`)); err != nil {
		t.Fatal(err)
	}
	o := <-res
	if o.err != nil || string(o.val.(json.RawMessage)) != `"paid"` {
		t.Fatalf("submit = %v, %v", o.val, o.err)
	}
	if s := b.Stats(); s[0].Completed != 1 || s[0].Leased != 0 {
		t.Fatalf("stats after = %+v", s)
	}
}

func TestPollWaitsForSubmit(t *testing.T) {
	b := New(Options{})
	got := make(chan Task, 1)
	go func() {
		tk, err := b.Poll(context.Background(), "billing", "w1")
		if err != nil {
			t.Error(err)
		}
		got <- tk
	}()
	waitFor(t, func() bool { return len(b.Stats()) == 1 && b.Stats()[0].Pollers == 1 })
	res := submit(context.Background(), b, job("k1"))
	tk := <-got
	if err := b.Fail(context.Background(), tk.ID, tk.Token, "card declined"); err != nil {
		t.Fatal(err)
	}
	o := <-res
	var we *WorkerError
	if !errors.As(o.err, &we) || we.Message != "card declined" || we.Worker != "w1" {
		t.Fatalf("submit error = %v", o.err)
	}
}

// waitFor polls cond until it holds, or fails the test after a generous
// bound.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 2000; i++ {
		if cond() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("condition never held")
}

func TestLeaseExpiryFailsAttempt(t *testing.T) {
	b := New(Options{Lease: 30 * time.Millisecond})
	res := submit(context.Background(), b, job("k1"))
	tk := poll(t, b, "billing", "w1")
	o := <-res // nobody heartbeats
	if !errors.Is(o.err, ErrLeaseExpired) || !strings.Contains(o.err.Error(), `lease expired: worker w1 held it for 30ms without a heartbeat`) {
		t.Fatalf("submit error = %v", o.err)
	}
	err := b.Complete(context.Background(), tk.ID, tk.Token, json.RawMessage(`"late"`))
	if !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("late completion = %v, want ErrLeaseLost", err)
	}
	if _, err := b.Heartbeat(context.Background(), tk.ID, tk.Token); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("late heartbeat = %v", err)
	}
	if s := b.Stats(); s[0].Expired != 1 || s[0].Completed != 0 || s[0].Leased != 0 {
		t.Fatalf("stats = %+v", s)
	}
}

func TestHeartbeatKeepsLease(t *testing.T) {
	// Heartbeats every 50 ms keep a 500 ms lease through 600 ms. The
	// margin is wide because the sleeps are real: a loaded machine (CI
	// with -race) overslept a 15 ms sleep past a 40 ms lease.
	b := New(Options{Lease: 500 * time.Millisecond})
	res := submit(context.Background(), b, job("k1"))
	tk := poll(t, b, "billing", "w1")
	for i := 0; i < 12; i++ { // 12 × 50 ms is past one lease
		time.Sleep(50 * time.Millisecond)
		if _, err := b.Heartbeat(context.Background(), tk.ID, tk.Token); err != nil {
			t.Fatalf("heartbeat %d: %v", i, err)
		}
	}
	if err := b.Complete(context.Background(), tk.ID, tk.Token, json.RawMessage(`1`)); err != nil {
		t.Fatal(err)
	}
	if o := <-res; o.err != nil {
		t.Fatal(o.err)
	}
}

func TestDuplicateAndStaleCallsChangeNothing(t *testing.T) {
	b := New(Options{})
	res := submit(context.Background(), b, job("k1"))
	tk := poll(t, b, "billing", "w1")
	if err := b.Complete(context.Background(), tk.ID, "not-the-token", json.RawMessage(`"x"`)); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("wrong token = %v", err)
	}
	if err := b.Complete(context.Background(), tk.ID, tk.Token, json.RawMessage(`"first"`)); err != nil {
		t.Fatal(err)
	}
	if err := b.Complete(context.Background(), tk.ID, tk.Token, json.RawMessage(`"second"`)); !errors.Is(err, ErrFinished) {
		t.Fatalf("second completion = %v, want ErrFinished", err)
	}
	if err := b.Fail(context.Background(), tk.ID, tk.Token, "oops"); !errors.Is(err, ErrFinished) {
		t.Fatalf("fail after completion = %v", err)
	}
	if err := b.Complete(context.Background(), "nope", "t", nil); !errors.Is(err, ErrUnknownTask) {
		t.Fatalf("unknown task = %v", err)
	}
	o := <-res
	if string(o.val.(json.RawMessage)) != `"first"` {
		t.Fatalf("result = %s, want the first completion", o.val)
	}
	if s := b.Stats(); s[0].Completed != 1 || s[0].Failed != 0 {
		t.Fatalf("stats = %+v", s)
	}
}

func TestBadResultFailsAttempt(t *testing.T) {
	b := New(Options{})
	j := job("k1")
	j.Decode = func(r json.RawMessage) (any, error) {
		var s string
		if err := json.Unmarshal(r, &s); err != nil {
			return nil, fmt.Errorf("task charge returned a bad result: result: want string")
		}
		return s, nil
	}
	res := submit(context.Background(), b, j)
	tk := poll(t, b, "billing", "w1")
	err := b.Complete(context.Background(), tk.ID, tk.Token, json.RawMessage(`42`))
	if !errors.Is(err, ErrBadResult) || !strings.Contains(err.Error(), "want string") {
		t.Fatalf("complete = %v", err)
	}
	if o := <-res; o.err == nil || !strings.Contains(o.err.Error(), "returned a bad result") {
		t.Fatalf("submit = %v", o.err)
	}
}

func TestWithdrawOnContext(t *testing.T) {
	b := New(Options{})
	ctx, cancel := context.WithCancel(context.Background())
	res := submit(ctx, b, job("k1"))
	tk := poll(t, b, "billing", "w1")
	cancel()
	if o := <-res; !errors.Is(o.err, context.Canceled) {
		t.Fatalf("submit = %v", o.err)
	}
	if _, err := b.Heartbeat(context.Background(), tk.ID, tk.Token); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("heartbeat after withdrawal = %v", err)
	}
	// A pending job withdrawn leaves the queue.
	ctx2, cancel2 := context.WithCancel(context.Background())
	res2 := submit(ctx2, b, job("k2"))
	waitFor(t, func() bool { return b.Stats()[0].Pending == 1 })
	cancel2()
	<-res2
	if s := b.Stats(); s[0].Pending != 0 || s[0].Withdrawn != 2 {
		t.Fatalf("stats = %+v", s)
	}
}

func TestPollCancelled(t *testing.T) {
	b := New(Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := b.Poll(ctx, "billing", "w1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("poll = %v", err)
	}
	if s := b.Stats(); len(s) != 0 {
		t.Fatalf("an empty queue's poll left state behind: %+v", s)
	}
	// The job submitted later still reaches a live poller.
	res := submit(context.Background(), b, job("k1"))
	tk := poll(t, b, "billing", "w2")
	b.Complete(context.Background(), tk.ID, tk.Token, json.RawMessage(`1`))
	if o := <-res; o.err != nil {
		t.Fatal(o.err)
	}
}

func TestSameIDSubmittedTwiceQueuesOnce(t *testing.T) {
	b := New(Options{})
	r1 := submit(context.Background(), b, job("k1"))
	tk := poll(t, b, "billing", "w1")
	r2 := submit(context.Background(), b, job("k1"))
	waitFor(t, func() bool {
		b.mu.Lock()
		defer b.mu.Unlock()
		return b.live["k1"].joins == 1
	})
	b.Complete(context.Background(), tk.ID, tk.Token, json.RawMessage(`7`))
	for _, r := range []<-chan outcome{r1, r2} {
		if o := <-r; o.err != nil || string(o.val.(json.RawMessage)) != "7" {
			t.Fatalf("submit = %v %v", o.val, o.err)
		}
	}
	if s := b.Stats(); s[0].Completed != 1 || s[0].Pending != 0 {
		t.Fatalf("stats = %+v", s)
	}
}

// TestManyWorkersShareQueue runs 8 workers against 400 jobs: every job
// completes exactly once, and more than one worker did some.
func TestManyWorkersShareQueue(t *testing.T) {
	b := New(Options{})
	const n = 400
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	byWorker := map[string]int{}
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		name := fmt.Sprintf("w%d", w)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				tk, err := b.Poll(ctx, "billing", name)
				if err != nil {
					return
				}
				mu.Lock()
				byWorker[name]++
				mu.Unlock()
				time.Sleep(time.Millisecond)
				if err := b.Complete(ctx, tk.ID, tk.Token, json.RawMessage(`"`+tk.ID+`"`)); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	var sub sync.WaitGroup
	for i := 0; i < n; i++ {
		sub.Add(1)
		go func() {
			defer sub.Done()
			id := fmt.Sprintf("k%d", i)
			v, err := b.Submit(context.Background(), job(id))
			if err != nil || string(v.(json.RawMessage)) != `"`+id+`"` {
				t.Errorf("job %s = %v, %v", id, v, err)
			}
		}()
	}
	sub.Wait()
	cancel()
	wg.Wait()
	total := 0
	for _, c := range byWorker {
		total += c
	}
	if total != n || len(byWorker) < 2 {
		t.Fatalf("deliveries by worker = %v, want %d in all over several workers", byWorker, n)
	}
	if s := b.Stats(); s[0].Completed != n || s[0].Pending != 0 || s[0].Leased != 0 {
		t.Fatalf("stats = %+v", s)
	}
}

func TestClose(t *testing.T) {
	b := New(Options{})
	done := make(chan error, 1)
	go func() {
		_, err := b.Poll(context.Background(), "q", "w")
		done <- err
	}()
	waitFor(t, func() bool { return len(b.Stats()) == 1 && b.Stats()[0].Pollers == 1 })
	b.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("poll = %v", err)
	}
	if _, err := b.Submit(context.Background(), job("k")); !errors.Is(err, ErrClosed) {
		t.Fatalf("submit = %v", err)
	}
}

func TestPollRejectsBadQueueName(t *testing.T) {
	b := New(Options{})
	for _, name := range []string{"", strings.Repeat("q", MaxQueueName+1)} {
		if _, err := b.Poll(context.Background(), name, "w"); !errors.Is(err, ErrBadRequest) {
			t.Errorf("poll %d-byte name = %v, want ErrBadRequest", len(name), err)
		}
	}
	if s := b.Stats(); len(s) != 0 {
		t.Fatalf("stats = %+v", s)
	}
}

// TestDurableCompleteWaitsForRecord: a durable job's Complete returns
// only after Recorded; an error or no record at all is ErrNotRecorded.
func TestDurableCompleteWaitsForRecord(t *testing.T) {
	b := New(Options{RecordWait: 50 * time.Millisecond})
	for _, tc := range []struct {
		name   string
		record func(id string)
		want   error
	}{
		{"recorded", func(id string) { b.Recorded(id, nil) }, nil},
		{"write failed", func(id string) { b.Recorded(id, errors.New("disk full")) }, ErrNotRecorded},
		{"never", func(string) {}, ErrNotRecorded},
	} {
		j := job("k-" + tc.name)
		j.Durable = true
		res := submit(context.Background(), b, j)
		tk := poll(t, b, "billing", "w1")
		completed := make(chan error, 1)
		go func() { completed <- b.Complete(context.Background(), tk.ID, tk.Token, json.RawMessage(`1`)) }()
		if o := <-res; o.err != nil { // the engine has the result ...
			t.Fatal(o.err)
		}
		select {
		case err := <-completed: // ... but the worker hears nothing yet
			if tc.want == nil {
				t.Fatalf("%s: Complete returned %v before the record", tc.name, err)
			}
		case <-time.After(20 * time.Millisecond):
		}
		tc.record(tk.ID)
		if err := <-completed; !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
			t.Errorf("%s: Complete = %v, want %v", tc.name, err, tc.want)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.unrec) != 0 {
		t.Fatalf("records still awaited: %v", b.unrec)
	}
}
