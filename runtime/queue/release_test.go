package queue

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// TestRelease: a released delivery goes to the next poller with a new
// token, the old token is refused, and the engine sees one completion.
func TestRelease(t *testing.T) {
	b := New(Options{})
	res := make(chan any, 1)
	go func() {
		v, err := b.Submit(context.Background(), Job{ID: "k1", Queue: "q", Task: "t", Input: json.RawMessage(`{"i":1}`)})
		if err != nil {
			v = err
		}
		res <- v
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first, err := b.Poll(ctx, "q", "w1")
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Release(first.ID, first.Token); err != nil {
		t.Fatal(err)
	}
	if err := b.Release(first.ID, first.Token); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("second release: %v, want ErrLeaseLost", err)
	}
	second, err := b.Poll(ctx, "q", "w2")
	if err != nil {
		t.Fatal(err)
	}
	if second.ID != first.ID || second.Token == first.Token || second.Attempt != first.Attempt {
		t.Fatalf("redelivery %+v after %+v", second, first)
	}
	if err := b.Complete(ctx, first.ID, first.Token, json.RawMessage("1")); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("complete with the released token: %v, want ErrLeaseLost", err)
	}
	if err := b.Complete(ctx, second.ID, second.Token, json.RawMessage("2")); err != nil {
		t.Fatal(err)
	}
	if v := <-res; string(v.(json.RawMessage)) != "2" {
		t.Fatalf("engine got %v", v)
	}
	if err := b.Release(second.ID, second.Token); !errors.Is(err, ErrFinished) && !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("release of a finished task: %v", err)
	}
	if err := b.Release("nope", "x"); !errors.Is(err, ErrUnknownTask) {
		t.Fatalf("release of an unknown task: %v", err)
	}
}
