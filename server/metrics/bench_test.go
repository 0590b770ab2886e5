package metrics_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/knhk/knhk/server"
	"github.com/knhk/knhk/server/metrics"
)

const benchSrc = `package bench

import "std/time"

workflow Tick(n: int) -> int {
  let t = time.now()
  return n + 1
}
`

// BenchmarkObserver measures what metrics cost a server: b.N cases of a
// workflow with one cheap task, 32 at a time, started and waited for on
// a Service without an Observer (the baseline) and on one with metrics,
// each on a fresh data directory, in the order bare, metrics, metrics,
// bare so that warming up favours neither. It reports both times per
// case and their ratio (metrics/bare; 1.00 means free).
func BenchmarkObserver(b *testing.B) {
	run := func(obs bool) time.Duration {
		var o server.Options
		o.IndexEvery = -1
		if obs {
			m := metrics.New(metrics.Options{})
			o.Observer = m
		}
		svc, err := server.Open(b.TempDir(), o)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		defer svc.Close(ctx)
		if _, err := svc.Deploy("bench.knhk", []byte(benchSrc), nil); err != nil {
			b.Fatal(err)
		}
		var next atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1)
					if i > int64(b.N) {
						return
					}
					id, _, err := svc.Start(ctx, server.StartRequest{Workflow: "Tick", Input: []byte(strconv.FormatInt(i, 10))})
					if err == nil {
						_, _, err = svc.Wait(ctx, id, false)
					}
					if err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	b.ResetTimer()
	bare := run(false)
	with := run(true)
	with += run(true)
	bare += run(false)
	bare, with = bare/2, with/2
	b.ReportMetric(float64(bare.Nanoseconds())/float64(b.N), "bare-ns/case")
	b.ReportMetric(float64(with.Nanoseconds())/float64(b.N), "metrics-ns/case")
	b.ReportMetric(float64(with)/float64(bare), "ratio")
}
