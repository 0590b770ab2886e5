// This file benchmarks durable appends with and without group commit.

package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkDurableAppend measures fsync'd appends: a baseline with one
// appender, where every record pays its own fsync, and 64 concurrent
// cases sharing group commits. The group sub-benchmark reports its rate as a multiple of
// the baseline (x-baseline), both measured in the same run on the same disk;
// -v also logs the ratio.
func BenchmarkDurableAppend(b *testing.B) {
	payload := make([]byte, 128)
	rates := map[string]float64{}
	run := func(name string, appenders int) {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			s, err := Open(b.TempDir(), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			cases := make([]string, appenders)
			for i := range cases {
				cases[i] = fmt.Sprintf("case-%02d", i)
			}
			var left atomic.Int64
			left.Store(int64(b.N))
			var wg sync.WaitGroup
			b.ResetTimer()
			for i := range appenders {
				wg.Go(func() {
					r := Record{CaseID: cases[i], Kind: "fire", Payload: payload}
					for left.Add(-1) >= 0 {
						if _, err := s.Append(ctx, r); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			rate := float64(b.N) / b.Elapsed().Seconds()
			b.ReportMetric(rate, "records/s")
			b.ReportMetric(0, "ns/op")
			if st := s.Stats(); st.Commits > 0 {
				b.ReportMetric(float64(st.Records)/float64(st.Commits), "records/fsync")
			}
			rates[name] = rate
			if base := rates["baseline-1-appender-fsync-per-record"]; appenders > 1 && base > 0 {
				b.ReportMetric(rate/base, "x-baseline")
			}
		})
	}
	run("baseline-1-appender-fsync-per-record", 1)
	run("group-commit-64-cases", 64)
	if base, group := rates["baseline-1-appender-fsync-per-record"], rates["group-commit-64-cases"]; base > 0 && group > 0 {
		b.Logf("group commit with 64 cases: %.0f records/s, %.1fx the one-appender baseline (%.0f records/s)", group, group/base, base)
	}
}
