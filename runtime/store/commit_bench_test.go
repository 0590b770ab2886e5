// This file measures what a commit costs besides its fsync: catching up
// with other writers before the write.

package store

import (
	"context"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"
)

// BenchmarkCommit appends 128-byte records one at a time (a commit
// each) with the previous behaviour, HEAD and the mark re-read on every
// commit, and with the cached view (unchanged.go), alternating the two
// in rounds in the same run (each first in turn). It runs on the test's temporary directory
// (fsync bound) and, where /dev/shm exists, on tmpfs, where fdatasync
// is nearly free and what is left is the commit's own CPU and system
// calls. -v logs the ratio new/previous of the medians.
func BenchmarkCommit(b *testing.B) {
	dirs := map[string]string{"disk": ""}
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		dirs["tmpfs"] = "/dev/shm"
	}
	for _, where := range []string{"disk", "tmpfs"} {
		base, ok := dirs[where]
		if !ok {
			continue
		}
		b.Run(where, func(b *testing.B) {
			ctx := context.Background()
			open := func(previous bool) *Store {
				dir := b.TempDir()
				if base != "" {
					d, err := os.MkdirTemp(base, "knhk-commit-bench-")
					if err != nil {
						b.Fatal(err)
					}
					b.Cleanup(func() { os.RemoveAll(d) })
					dir = d
				}
				s, err := Open(dir, Options{})
				if err != nil {
					b.Fatal(err)
				}
				s.alwaysCatchUp = previous
				b.Cleanup(func() { s.Close() })
				return s
			}
			stores := [2]*Store{open(true), open(false)}
			r := Record{CaseID: "case-1", Kind: "fire", Payload: make([]byte, 128)}
			const rounds = 5
			per := max(b.N/rounds/2, 1)
			var took, allocs [2][]float64
			var ms runtime.MemStats
			b.ResetTimer()
			for round := range rounds {
				for j := range stores {
					i := (j + round) % 2 // each goes first in turn
					s := stores[i]
					runtime.ReadMemStats(&ms)
					mallocs := ms.Mallocs
					start := time.Now()
					for range per {
						if _, err := s.Append(ctx, r); err != nil {
							b.Fatal(err)
						}
					}
					took[i] = append(took[i], float64(time.Since(start).Microseconds())/float64(per))
					runtime.ReadMemStats(&ms)
					allocs[i] = append(allocs[i], float64(ms.Mallocs-mallocs)/float64(per))
				}
			}
			b.StopTimer()
			prev, cur := median(took[0]), median(took[1])
			b.ReportMetric(prev, "µs/commit-previous")
			b.ReportMetric(cur, "µs/commit")
			b.ReportMetric(cur/prev, "x-previous")
			b.ReportMetric(median(allocs[0]), "allocs/commit-previous")
			b.ReportMetric(median(allocs[1]), "allocs/commit")
			b.ReportMetric(0, "ns/op")
			b.Logf("%s: %.1f µs per commit with the cached view, %.1f µs re-reading HEAD and the mark: %.3fx (medians of %d rounds of %d)", where, cur, prev, cur/prev, rounds, per)
		})
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
