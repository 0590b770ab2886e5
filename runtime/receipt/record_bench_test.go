// This file benchmarks what recording a receipt costs the engine's
// goroutine (the event's digest and a place in the sequencer's queue),
// against appending the same event to an in-memory log as the baseline;
// the sequencer's own work is measured by BenchmarkReceiptOverhead.

package receipt

import (
	"context"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/sign"
)

func BenchmarkRecord(b *testing.B) {
	k, _ := sign.Generate(sign.MLDSA65Ed25519)
	r, err := Open(b.TempDir(), Options{Key: k, Interval: -1, Every: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	ev := &engine.Event{Kind: engine.EvDone, Time: 1, Inv: 3, Values: eval.Values(int64(42))}
	mem := engine.NewMemLog()
	ctx := context.Background()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		mem.Append(ctx, "c-0123456789abcdef", ev)
	}
	base := time.Since(start)
	b.ResetTimer()
	start = time.Now()
	for i := 0; i < b.N; i++ {
		if err := r.Record("c-0123456789abcdef", "d41d8cd98f00b204e9800998ecf8427ed41d8cd98f00b204e9800998ecf8427e", ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start))/float64(base), "x-memlog-append")
}
