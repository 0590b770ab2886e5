// This file implements the durability benchmarks: durable transitions per
// second with 64 concurrent cases, and the start-to-completion latency of
// a ten-step workflow in memory and over the durable store. Each reports
// a ratio against a baseline measured in the same run.

package durable

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/store"
	"github.com/knhk/knhk/runtime/worker"
)

// countLog counts the events appended through it: each is one durable
// transition of a case.
type countLog struct {
	engine.EventLog
	n atomic.Int64
}

func (l *countLog) Append(ctx context.Context, id string, ev *engine.Event) error {
	if err := l.EventLog.Append(ctx, id, ev); err != nil {
		return err
	}
	l.n.Add(1)
	return nil
}

// seqResult is what a case of seqSource returns.
const seqResult = int64(55)

// runSeq runs one case of seqSource to completion and forgets it.
func runSeq(ctx context.Context, e *engine.Engine, id string) error {
	if err := e.Start(ctx, id, "Seq", nil); err != nil {
		return err
	}
	s, err := e.Snapshot(id)
	if err != nil {
		return err
	}
	if s.Status != engine.Completed || s.Result != eval.Int(seqResult) {
		return fmt.Errorf("case %s: status %v result %#v error %q", id, s.Status, s.Result, s.Error)
	}
	e.Forget(id)
	return nil
}

// runConcurrent runs cases of seqSource numbered from first, conc at a
// time, and returns the events appended and how long it took.
func runConcurrent(b *testing.B, e *engine.Engine, log *countLog, prefix string, cases, conc int) (int64, time.Duration) {
	ctx := context.Background()
	before := log.n.Load()
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Pointer[error]
	begin := time.Now()
	for range conc {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(cases) || failed.Load() != nil {
					return
				}
				if err := runSeq(ctx, e, fmt.Sprintf("%s%d", prefix, i)); err != nil {
					failed.Store(&err)
					return
				}
			}
		})
	}
	wg.Wait()
	d := time.Since(begin)
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	return log.n.Load() - before, d
}

func durableEngine(b *testing.B, p *ir.Program) (*engine.Engine, *countLog) {
	st, err := store.Open(b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	log := &countLog{EventLog: engine.StoreLog{Store: st}}
	e, err := newEngine(p, nopRegistry(), log)
	if err != nil {
		b.Fatal(err)
	}
	return e, log
}

// BenchmarkDurableTransitions runs b.N cases of a ten-step sequence, 64
// at a time, over the fsync'd, group-committed store, and reports
// durable transitions (appended events) per second; the baseline runs
// the same cases one at a time, so every event pays its own fsync.
func BenchmarkDurableTransitions(b *testing.B) {
	p := mustCompile(b, seqSource)
	e, log := durableEngine(b, p)
	b.ResetTimer()
	n, d := runConcurrent(b, e, log, fmt.Sprintf("c%d-", b.N), b.N, 64)
	b.StopTimer()
	rate := float64(n) / d.Seconds()

	// The baseline: one case at a time, bounded so that it stays short.
	base, bd := runConcurrent(b, e, log, fmt.Sprintf("s%d-", b.N), min(b.N, 64), 1)
	baseRate := float64(base) / bd.Seconds()
	b.ReportMetric(rate, "transitions/s")
	b.ReportMetric(baseRate, "baseline-transitions/s")
	b.ReportMetric(rate/baseRate, "x-baseline")
	b.ReportMetric(float64(n)/float64(b.N), "transitions/case")
}

// latencies runs cases of seqSource one at a time and returns each one's
// start-to-completion time, sorted.
func latencies(b *testing.B, e *engine.Engine, prefix string, cases int) []time.Duration {
	ctx := context.Background()
	out := make([]time.Duration, 0, cases)
	for i := range cases {
		begin := time.Now()
		if err := runSeq(ctx, e, fmt.Sprintf("%s%d", prefix, i)); err != nil {
			b.Fatal(err)
		}
		out = append(out, time.Since(begin))
	}
	slices.Sort(out)
	return out
}

// pct returns the q-quantile of sorted durations, in microseconds.
func pct(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := min(len(sorted)-1, int(q*float64(len(sorted))))
	return float64(sorted[i].Nanoseconds()) / 1e3
}

// BenchmarkLatency10 reports the p50 and p99 latency from start to
// completion of a ten-step workflow of no-op extern tasks, one case at a
// time. In memory the baseline is the ten task calls made directly on the
// worker (the engine's overhead is the ratio); durable's baseline is the
// memory engine measured in the same run.
func BenchmarkLatency10(b *testing.B) {
	p := mustCompile(b, seqSource)
	b.Run("memory", func(b *testing.B) {
		e, err := newEngine(p, nopRegistry(), engine.NewMemLog())
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		lat := latencies(b, e, fmt.Sprintf("m%d-", b.N), b.N)
		b.StopTimer()
		raw := rawCalls(b, p, max(b.N, 100))
		b.ReportMetric(pct(lat, 0.50), "p50-µs")
		b.ReportMetric(pct(lat, 0.99), "p99-µs")
		b.ReportMetric(pct(raw, 0.50), "baseline-p50-µs")
		b.ReportMetric(pct(lat, 0.50)/pct(raw, 0.50), "x-baseline-p50")
	})
	b.Run("memory-rounds", func(b *testing.B) {
		// The same in the reproducible mode (Config.Rounds): the cost of
		// live runs, which hand each call to a goroutine, is the ratio.
		rounds, err := engine.New(engine.Config{Program: p, Eval: &host.Evaluator{}, Worker: worker.New(p, worker.Options{Registry: nopRegistry()}), Log: engine.NewMemLog(), Rounds: true})
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		lat := latencies(b, rounds, fmt.Sprintf("r%d-", b.N), b.N)
		b.StopTimer()
		live, err := newEngine(p, nopRegistry(), engine.NewMemLog())
		if err != nil {
			b.Fatal(err)
		}
		base := latencies(b, live, fmt.Sprintf("m%d-", b.N), max(b.N, 100))
		b.ReportMetric(pct(lat, 0.50), "p50-µs")
		b.ReportMetric(pct(lat, 0.99), "p99-µs")
		b.ReportMetric(pct(base, 0.50), "live-p50-µs")
		b.ReportMetric(pct(base, 0.50)/pct(lat, 0.50), "x-live-cost")
	})
	b.Run("durable", func(b *testing.B) {
		e, _ := durableEngine(b, p)
		b.ResetTimer()
		lat := latencies(b, e, fmt.Sprintf("d%d-", b.N), b.N)
		b.StopTimer()
		mem, err := newEngine(p, nopRegistry(), engine.NewMemLog())
		if err != nil {
			b.Fatal(err)
		}
		base := latencies(b, mem, fmt.Sprintf("m%d-", b.N), max(b.N, 100))
		b.ReportMetric(pct(lat, 0.50), "p50-µs")
		b.ReportMetric(pct(lat, 0.99), "p99-µs")
		b.ReportMetric(pct(base, 0.50), "memory-p50-µs")
		b.ReportMetric(pct(lat, 0.50)/pct(base, 0.50), "x-memory-p50")
	})
}

// rawCalls times ten direct calls of the no-op task on the worker, the
// work a case of seqSource does outside the engine, and returns the
// times, sorted.
func rawCalls(b *testing.B, p *ir.Program, n int) []time.Duration {
	ctx := context.Background()
	w := worker.New(p, worker.Options{Registry: nopRegistry()})
	var task *ir.Task
	for _, t := range p.Tasks {
		if t.Name == "nop" {
			task = t
		}
	}
	if task == nil {
		b.Fatal("no task nop")
	}
	out := make([]time.Duration, 0, n)
	for range n {
		begin := time.Now()
		for k := range int64(10) {
			v, err := w.Invoke(ctx, engine.Invocation{CaseID: "raw", Transition: "nop", Attempt: 1, Task: task, Args: eval.Values(k + 1)})
			if err != nil || v != eval.Int(k+1) {
				b.Fatalf("nop(%d) = %v, %v", k+1, v, err)
			}
		}
		out = append(out, time.Since(begin))
	}
	slices.Sort(out)
	return out
}
