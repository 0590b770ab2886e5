package queue

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestLeasesExpireInOrder: of three leases, the two nobody extends run
// out (their submitters get ErrLeaseExpired) while the first, which its
// worker keeps extending (each heartbeat moves it behind the others in
// the broker's leases), is held throughout; a lease taken after the
// list emptied runs out too.
func TestLeasesExpireInOrder(t *testing.T) {
	const lease = 300 * time.Millisecond
	b := New(Options{Lease: lease})
	ctx := context.Background()
	kept := submit(ctx, b, job("kept"))
	tk := poll(t, b, "billing", "w1")
	var lapsed []<-chan outcome
	for _, id := range []string{"lapse-1", "lapse-2"} {
		lapsed = append(lapsed, submit(ctx, b, job(id)))
		poll(t, b, "billing", "w2")
	}
	deadline := time.After(20 * lease)
	for _, ch := range lapsed {
		for done := false; !done; {
			select {
			case <-deadline:
				t.Fatal("an unextended lease did not run out")
			case o := <-ch:
				if !errors.Is(o.err, ErrLeaseExpired) {
					t.Fatalf("unextended lease: %v", o.err)
				}
				done = true
			case <-time.After(lease / 10):
				if _, err := b.Heartbeat(ctx, tk.ID, tk.Token); err != nil {
					t.Fatalf("heartbeat of the kept lease: %v", err)
				}
			}
		}
	}
	if s := b.Stats(); s[0].Expired != 2 || s[0].Leased != 1 {
		t.Fatalf("stats: %+v", s)
	}
	if err := b.Complete(ctx, tk.ID, tk.Token, []byte(`"ok"`)); err != nil {
		t.Fatalf("completing the kept task: %v", err)
	}
	if o := <-kept; o.err != nil {
		t.Fatal(o.err)
	}
	// And with nothing leased, a new lease still runs out.
	res := submit(ctx, b, job("later"))
	poll(t, b, "billing", "w1")
	if o := <-res; !errors.Is(o.err, ErrLeaseExpired) {
		t.Fatalf("a lease after the list emptied: %v", o.err)
	}
}

// TestRecordWaitsEndInOrder: of three completions waiting for the
// engine's record, the one recorded gets nil at once and the two that
// never are get ErrNotRecorded once RecordWait passes; each then is
// called once.
func TestRecordWaitsEndInOrder(t *testing.T) {
	b := New(Options{RecordWait: 200 * time.Millisecond})
	ctx := context.Background()
	var acks []chan error
	var ids []string
	for _, id := range []string{"r-1", "r-2", "r-3"} {
		j := job(id)
		j.Durable = true
		submit(ctx, b, j)
		tk := poll(t, b, "billing", "w1")
		ack := make(chan error, 2)
		b.CompleteThen(tk.ID, tk.Token, []byte(`"ok"`), func(err error) { ack <- err })
		acks, ids = append(acks, ack), append(ids, tk.ID)
	}
	b.Recorded(ids[1], nil)
	for i, ack := range acks {
		var err error
		select {
		case err = <-ack:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: no answer", ids[i])
		}
		if want := i != 1; errors.Is(err, ErrNotRecorded) != want {
			t.Errorf("%s: %v, want not recorded %v", ids[i], err, want)
		}
	}
	time.Sleep(50 * time.Millisecond)
	for i, ack := range acks {
		select {
		case err := <-ack:
			t.Errorf("%s: a second answer: %v", ids[i], err)
		default:
		}
	}
	b.Recorded(ids[0], nil) // too late: nothing waits for it
}
