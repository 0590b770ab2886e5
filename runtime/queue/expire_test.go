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
