package queue

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// submitThen runs b.SubmitThen and returns the channel its callback
// reports on (a second call of the callback shows in once) and the
// job's withdraw.
func submitThen(b *Broker, j Job) (<-chan outcome, func(error)) {
	ch := make(chan outcome, 2)
	withdraw := b.SubmitThen(j, func(v any, err error) { ch <- outcome{v, err} })
	return ch, withdraw
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
// error, an expired lease, the error it is withdrawn with (as Submit's
// context's end), a refusal; a second submission of a live ID gets the
// first's outcome.
func TestSubmitThen(t *testing.T) {
	ctx := context.Background()
	b := New(Options{})

	res, _ := submitThen(b, job("done"))
	tk := poll(t, b, "billing", "w1")
	if err := b.Complete(ctx, tk.ID, tk.Token, json.RawMessage(`"paid"`)); err != nil {
		t.Fatal(err)
	}
	if o := once(t, res); o.err != nil || string(o.val.(json.RawMessage)) != `"paid"` {
		t.Fatalf("completed: %v, %v", o.val, o.err)
	}

	res, _ = submitThen(b, job("failed"))
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
	res, _ = submitThen(b, j)
	tk = poll(t, b, "billing", "w1")
	if err := b.Complete(ctx, tk.ID, tk.Token, json.RawMessage(`1`)); !errors.Is(err, ErrBadResult) {
		t.Fatalf("complete with a bad result: %v", err)
	}
	if o := once(t, res); o.err == nil || o.err.Error() != "not a string" {
		t.Fatalf("bad result: %v", o.err)
	}

	// A second submission of the live ID waits for the same task.
	first, _ := submitThen(b, job("twice"))
	second, _ := submitThen(b, job("twice"))
	tk = poll(t, b, "billing", "w1")
	if err := b.Complete(ctx, tk.ID, tk.Token, json.RawMessage(`"x"`)); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []<-chan outcome{first, second} {
		if o := once(t, ch); o.err != nil {
			t.Fatalf("joined: %v", o.err)
		}
	}

	// withdraw ends the job, pending or leased, once.
	for _, leased := range []bool{false, true} {
		var withdraw func(error)
		res, withdraw = submitThen(b, job("withdrawn"))
		if leased {
			tk = poll(t, b, "billing", "w1")
		}
		withdraw(context.Canceled)
		withdraw(context.DeadlineExceeded) // ended already: nothing
		if o := once(t, res); !errors.Is(o.err, context.Canceled) {
			t.Fatalf("withdrawn (leased %v): %v", leased, o.err)
		}
		if leased {
			if err := b.Complete(ctx, tk.ID, tk.Token, json.RawMessage(`"late"`)); !errors.Is(err, ErrLeaseLost) {
				t.Fatalf("completing a withdrawn task: %v", err)
			}
		}
	}
	// Withdrawing after the outcome changes nothing.
	res, withdraw := submitThen(b, job("late withdraw"))
	tk = poll(t, b, "billing", "w1")
	if err := b.Complete(ctx, tk.ID, tk.Token, json.RawMessage(`"ok"`)); err != nil {
		t.Fatal(err)
	}
	withdraw(context.Canceled)
	if o := once(t, res); o.err != nil {
		t.Fatalf("withdrawn after completing: %v", o.err)
	}
	if s := b.Stats(); s[0].Pending != 0 || s[0].Leased != 0 || s[0].Withdrawn != 2 {
		t.Fatalf("stats: %+v", s)
	}

	if o := once(t, first0(submitThen(b, Job{Queue: "billing"}))); !errors.Is(o.err, ErrBadRequest) {
		t.Fatalf("no ID: %v", o.err)
	}
	b.Close()
	if o := once(t, first0(submitThen(b, job("closed")))); !errors.Is(o.err, ErrClosed) {
		t.Fatalf("closed: %v", o.err)
	}
}

// TestSubmitThenExpired: a lease nobody extends ends the attempt.
func TestSubmitThenExpired(t *testing.T) {
	b := New(Options{Lease: 30 * time.Millisecond})
	res, _ := submitThen(b, job("k1"))
	poll(t, b, "billing", "w1")
	if o := once(t, res); !errors.Is(o.err, ErrLeaseExpired) {
		t.Fatalf("expired: %v", o.err)
	}
}

// first0 is the outcome channel of submitThen.
func first0(ch <-chan outcome, _ func(error)) <-chan outcome { return ch }
