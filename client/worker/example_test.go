package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/knhk/knhk/client/worker"
	"github.com/knhk/knhk/runtime/queue"
)

// A worker for `task charge(amount: int) -> string queue "billing"`.
// Against knhk serve, the Conn is the API client's; here it is a broker
// in the same process, and the engine's side is played by Submit.
func Example() {
	b := queue.New(queue.Options{})
	w, err := worker.New(worker.Local(b), worker.Options{Queue: "billing", ID: "w1",
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))},
		func(ctx context.Context, t *worker.Task) (any, error) {
			var in struct{ Amount int }
			if err := json.Unmarshal(t.Input, &in); err != nil {
				return nil, err
			}
			// Apply the charge once per t.ID, the attempt's idempotency key.
			return fmt.Sprintf("charged %d", in.Amount), nil
		})
	if err != nil {
		panic(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx) }()

	res, err := b.Submit(context.Background(), queue.Job{ID: "case-1/charge/1", Queue: "billing",
		Task: "charge", Input: json.RawMessage(`{"amount": 1250}`)})
	fmt.Printf("%s %v\n", res, err)
	stop()
	fmt.Println(<-done)
	// Output:
	// "charged 1250" <nil>
	// <nil>
}
