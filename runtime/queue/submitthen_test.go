package queue

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// submitThen runs b.SubmitThen and returns the channel its callback
// reports on; a second call of the callback fails the test.
func submitThen(t *testing.T, ctx context.Context, b *Broker, j Job) <-chan outcome {
	ch := make(chan outcome, 2)
	b.SubmitThen(ctx, j, func(v any, err error) { ch <- outcome{v, err} })
	return ch
}

// once takes the one outcome of ch and checks that no other comes.
func once(t *testing.T, ch <-chan outcome) outcome {
	t.Helper()
	var o outcome
	select {
	case o = <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("no outcome")
	}
	select {
	case o2 := <-ch:
		t.Fatalf("a second outcome: %v, %v", o2.val, o2.err)
	case <-time.After(20 * time.Millisecond):
	}
	return o
}

// TestSubmitThen: SubmitThen gives its callback, once, what Submit
// returns: the decoded result, a worker's failure, a bad result's
// error, an expired lease, its context's end (which withdraws the
// job), a refusal; a second submission of a live ID gets the first's
// outcome.
func TestSubmitThen(t *testing.T) {
	ctx := context.Background()
	b := New(Options{})

	res := submitThen(t, ctx, b, job("done"))
	tk := poll(t, b, "billing", "w1")
	if err := b.Complete(ctx, tk.ID, tk.Token, json.RawMessage(`"paid"`)); err != nil {
		t.Fatal(err)
	}
	if o := once(t, res); o.err != nil || string(o.val.(json.RawMessage)) != `"paid"` {
		t.Fatalf("completed: %v, %v", o.val, o.err)
	}

	res = submitThen(t, ctx, b, job("failed"))
	tk = poll(t, b, "billing", "w1")
	if err := b.Fail(ctx, tk.ID, tk.Token, "card declined"); err != nil {
		t.Fatal(err)
	}
	var we *WorkerError
	if o := once(t, res); !errors.As(o.err, &we) || we.Message != "card declined" {
		t.Fatalf("failed: %v", o.err)
	}

	j := job("bad")
	j.Decode = func(json.RawMessage) (any, error) { return nil, errors.New("not a string") }
	res = submitThen(t, ctx, b, j)
	tk = poll(t, b, "billing", "w1")
	if err := b.Complete(ctx, tk.ID, tk.Token, json.RawMessage(`1`)); !errors.Is(err, ErrBadResult) {
		t.Fatalf("complete with a bad result: %v", err)
	}
	if o := once(t, res); o.err == nil || o.err.Error() != "not a string" {
		t.Fatalf("bad result: %v", o.err)
	}

	// A second submission of the live ID waits for the same task.
	first := submitThen(t, ctx, b, job("twice"))
	second := submitThen(t, ctx, b, job("twice"))
	tk = poll(t, b, "billing", "w1")
	if err := b.Complete(ctx, tk.ID, tk.Token, json.RawMessage(`"x"`)); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []<-chan outcome{first, second} {
		if o := once(t, ch); o.err != nil {
			t.Fatalf("joined: %v", o.err)
		}
	}

	// The context's end withdraws the job, pending or leased.
	for _, leased := range []bool{false, true} {
		cctx, cancel := context.WithCancel(ctx)
		res = submitThen(t, cctx, b, job("withdrawn"))
		if leased {
			tk = poll(t, b, "billing", "w1")
		}
		cancel()
		if o := once(t, res); !errors.Is(o.err, context.Canceled) {
			t.Fatalf("withdrawn (leased %v): %v", leased, o.err)
		}
		if leased {
			if err := b.Complete(ctx, tk.ID, tk.Token, json.RawMessage(`"late"`)); !errors.Is(err, ErrLeaseLost) {
				t.Fatalf("completing a withdrawn task: %v", err)
			}
		}
	}
	if s := b.Stats(); s[0].Pending != 0 || s[0].Leased != 0 || s[0].Withdrawn != 2 {
		t.Fatalf("stats: %+v", s)
	}

	if o := once(t, submitThen(t, ctx, b, Job{Queue: "billing"})); !errors.Is(o.err, ErrBadRequest) {
		t.Fatalf("no ID: %v", o.err)
	}
	b.Close()
	if o := once(t, submitThen(t, ctx, b, job("closed"))); !errors.Is(o.err, ErrClosed) {
		t.Fatalf("closed: %v", o.err)
	}
}

// TestSubmitThenExpired: a lease nobody extends ends the attempt.
func TestSubmitThenExpired(t *testing.T) {
	b := New(Options{Lease: 30 * time.Millisecond})
	res := submitThen(t, context.Background(), b, job("k1"))
	poll(t, b, "billing", "w1")
	if o := once(t, res); !errors.Is(o.err, ErrLeaseExpired) {
		t.Fatalf("expired: %v", o.err)
	}
}
