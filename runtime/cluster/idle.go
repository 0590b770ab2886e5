package cluster

import (
	"context"
	"time"

	"github.com/knhk/knhk/runtime/engine"
)

// AwaitCase parks the goroutine that drives case id on eng until it has
// work: a kick (a signal or a command arrived), its next timer falling
// due (then it runs the case and returns the run's error), or ctx ending.
// The raft leader and the BFT driver both park their cases here so that
// a timer fires the same way under either consensus.
func AwaitCase(ctx context.Context, eng *engine.Engine, id string, kick <-chan struct{}) error {
	var due <-chan time.Time
	if at, ok := eng.NextDue(id); ok {
		t := time.NewTimer(time.Until(at))
		defer t.Stop()
		due = t.C
	}
	select {
	case <-kick:
	case <-due:
		return eng.Run(ctx, id)
	case <-ctx.Done():
	}
	return nil
}
