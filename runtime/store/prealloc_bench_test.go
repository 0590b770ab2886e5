// This file measures what preallocation (prealloc.go) saves a commit:
// appends one at a time to a store that grows its segment with every
// commit and to one that writes into zeros prepared ahead.

package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// BenchmarkPrealloc appends 128-byte records to two stores on the
// test's temporary directory, one with preallocation off (each commit
// grows the file, so its fdatasync also commits the file system's
// journal) and one with it on, alternating the two in rounds (5 to 50,
// 100 appends each when b.N allows) in the same run, each first in turn.
// c=1 appends one at a time (a commit each); c=64 from 64 goroutines,
// whose records share commits and consume the prepared space fastest,
// so that the preparer's chunks (and a commit that flushes one along)
// show. It reports the medians over rounds of the time per append and
// of the median fdatasync per round (from Options.OnCommit); -v logs
// the ratios preallocated/append.
func BenchmarkPrealloc(b *testing.B) {
	for _, c := range []int{1, 64} {
		b.Run(fmt.Sprintf("c=%d", c), func(b *testing.B) { benchPrealloc(b, c) })
	}
}

func benchPrealloc(b *testing.B, c int) {
	ctx := context.Background()
	type variant struct {
		s     *Store
		mu    sync.Mutex
		syncs []float64 // µs, this round's
	}
	open := func(prealloc int64) *variant {
		v := &variant{}
		opts := Options{PreallocBytes: prealloc, OnCommit: func(ci CommitInfo) {
			v.mu.Lock()
			v.syncs = append(v.syncs, float64(ci.Sync.Nanoseconds())/1e3)
			v.mu.Unlock()
		}}
		s, err := Open(b.TempDir(), opts)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		v.s = s
		return v
	}
	vs := [2]*variant{open(-1), open(0)} // append, preallocated (default)
	r := Record{CaseID: "case-1", Kind: "fire", Payload: make([]byte, 128)}
	// Many short rounds: on a shared disk the load moves within a run,
	// and alternating often lets both variants see the same load.
	rounds := min(max(b.N/200, 5), 50)
	per := max(b.N/rounds/2, c)
	var took, syncs [2][]float64
	b.ResetTimer()
	for round := range rounds {
		for j := range vs {
			i := (j + round) % 2 // each goes first in turn
			v := vs[i]
			v.mu.Lock()
			v.syncs = v.syncs[:0]
			v.mu.Unlock()
			start := time.Now()
			var wg sync.WaitGroup
			for g := range c {
				wg.Go(func() {
					for range per/c + min(1, max(0, per%c-g)) {
						if _, err := v.s.Append(ctx, r); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			took[i] = append(took[i], float64(time.Since(start).Nanoseconds())/1e3/float64(per))
			v.mu.Lock()
			syncs[i] = append(syncs[i], median(v.syncs))
			v.mu.Unlock()
		}
	}
	b.StopTimer()
	app, pre := median(took[0]), median(took[1])
	appSync, preSync := median(syncs[0]), median(syncs[1])
	b.ReportMetric(app, "µs/append-growing")
	b.ReportMetric(pre, "µs/append")
	b.ReportMetric(pre/app, "x-growing")
	b.ReportMetric(appSync, "µs/fdatasync-growing")
	b.ReportMetric(preSync, "µs/fdatasync")
	b.ReportMetric(0, "ns/op")
	b.Logf("c=%d: %.1f µs per append into preallocated space, %.1f µs growing the file: %.3fx; fdatasync %.1f against %.1f µs: %.3fx (medians of %d rounds of %d)",
		c, pre, app, pre/app, preSync, appSync, preSync/appSync, rounds, per)
}
