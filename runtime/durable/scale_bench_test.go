// This file implements the scaling benchmarks: one case that loops over
// n items, sequentially and as n parallel instances, for n from 10^3 to
// 10^6, over the in-memory log and the durable store. A loop's cost must
// grow linearly with n, so each run reports its time, log bytes and
// memory per item and the ratio of each to the same workload at n = 10^3
// measured in the same process: about 1 when the slope is flat, about
// n/1000 when every iteration pays for the whole list.
//
//	go test ./runtime/durable -run '^$' -bench Scale -benchtime 1x
//
// The durable runs stop at 10^5 (10^6 items are more than 4 million
// fsync'd events and an input record near the store's 16 MiB limit).

package durable

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/store"
)

// scaleSource has the loops: Seq runs the body once per element in
// order, Par one instance per element, all at once, and ParTimer as Par
// with each instance waiting for its call in a select with a timer (n
// armed timers at once). Each body calls a task and adds its result to a
// variable of the workflow.
const scaleSource = `package scale

task nop(n: int) -> int extern

workflow Seq(xs: [int]) -> int {
  var total = 0
  for x in xs {
    let y = nop(x)
    total = total + y
  }
  return total
}

workflow Par(xs: [int]) -> int {
  var total = 0
  for x in xs parallel {
    let y = nop(x)
    total = total + y
  } join all
  return total
}

workflow ParTimer(xs: [int]) -> int {
  var total = 0
  for x in xs parallel {
    select {
      on timer 1h -> fail "too slow"
      on done nop(x) as y -> {
        total = total + y
      }
    }
  } join all
  return total
}
`

// scaleBase is the n every other size is compared with.
const scaleBase = 1000

// scaleRun is what one case of n items cost.
type scaleRun struct {
	n        int
	elapsed  time.Duration
	logBytes int64
	heap     int64 // live heap held by the finished case and its log
}

func (r scaleRun) nsPerItem() float64    { return float64(r.elapsed.Nanoseconds()) / float64(r.n) }
func (r scaleRun) bytesPerItem() float64 { return float64(r.logBytes) / float64(r.n) }
func (r scaleRun) heapPerItem() float64  { return float64(r.heap) / float64(r.n) }

// sizedLog is an event log that can say how many bytes it holds.
type sizedLog interface {
	engine.Snapshotter
	bytes() int64
}

// memBytesLog is the in-memory log, counting the bytes the durable store
// would write for its events and snapshots (their encodings).
type memBytesLog struct {
	*engine.MemLog
	mu sync.Mutex
	n  int64
}

func (l *memBytesLog) Append(ctx context.Context, id string, ev *engine.Event) error {
	b, err := engine.EncodeEvent(ev)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.n += int64(len(b))
	l.mu.Unlock()
	return l.MemLog.Append(ctx, id, ev)
}

func (l *memBytesLog) SaveSnapshot(ctx context.Context, id string, snap []byte) error {
	l.mu.Lock()
	l.n += int64(len(snap))
	l.mu.Unlock()
	return l.MemLog.SaveSnapshot(ctx, id, snap)
}

func (l *memBytesLog) bytes() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// storeBytesLog is the durable store; its size is that of its directory.
type storeBytesLog struct {
	engine.StoreLog
	dir string
}

func (l storeBytesLog) bytes() int64 {
	var n int64
	filepath.WalkDir(l.dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// newScaleLog returns an empty log of kind ("memory" or "durable") and a
// function that closes it.
func newScaleLog(tb testing.TB, kind string) (sizedLog, func()) {
	if kind == "memory" {
		return &memBytesLog{MemLog: engine.NewMemLog()}, func() {}
	}
	dir, err := os.MkdirTemp("", "knhk-scale-")
	if err != nil {
		tb.Fatal(err)
	}
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return storeBytesLog{StoreLog: engine.StoreLog{Store: st}, dir: dir}, func() {
		st.Close()
		os.RemoveAll(dir)
	}
}

// liveHeap returns the bytes of live heap after a collection.
func liveHeap() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// runScale runs one case of workflow wf over n items on a fresh log of
// kind and checks its result.
func runScale(tb testing.TB, p *ir.Program, wf, kind string, n int) scaleRun {
	ctx := context.Background()
	log, closeLog := newScaleLog(tb, kind)
	defer closeLog()
	e, err := newEngine(p, nopRegistry(), log)
	if err != nil {
		tb.Fatal(err)
	}
	xs := make([]any, n)
	want := int64(0)
	for i := range xs {
		xs[i] = int64(i)
		want += int64(i)
	}
	before := liveHeap()
	begin := time.Now()
	err = e.Start(ctx, "c", wf, []any{xs})
	for errors.Is(err, engine.ErrBusy) {
		// More than MaxSteps events without waiting: go on, as knhk
		// run does.
		err = e.Run(ctx, "c")
	}
	if err != nil {
		tb.Fatal(err)
	}
	s, err := finish(ctx, e, "c")
	elapsed := time.Since(begin)
	if err != nil {
		tb.Fatal(err)
	}
	if s.Status != engine.Completed || s.Result != eval.Int(want) {
		tb.Fatalf("%s over %d items: status %v result %v error %q, want %d", wf, n, s.Status, s.Result, s.Error, want)
	}
	heap := liveHeap() - before
	runtime.KeepAlive(e)
	runtime.KeepAlive(log)
	return scaleRun{n: n, elapsed: elapsed, logBytes: log.bytes(), heap: heap}
}

// medianRun runs runScale k times and returns the run with the median
// time, with the median of the heaps.
func medianRun(tb testing.TB, p *ir.Program, wf, kind string, n, k int) scaleRun {
	runs := make([]scaleRun, k)
	for i := range runs {
		runs[i] = runScale(tb, p, wf, kind, n)
	}
	heaps := make([]int64, k)
	for i, r := range runs {
		heaps[i] = r.heap
	}
	slices.Sort(heaps)
	slices.SortFunc(runs, func(a, b scaleRun) int { return int(a.elapsed - b.elapsed) })
	r := runs[k/2]
	r.heap = heaps[k/2]
	return r
}

// BenchmarkScale runs one case over n items per iteration for each
// workflow, log and size, and reports per item its time, log bytes and
// live heap, and the ratio of each to the same run at n = 10^3
// (x-time, x-log, x-heap; the median of three runs).
func BenchmarkScale(b *testing.B) {
	p := mustCompile(b, scaleSource)
	for _, wf := range []string{"Seq", "Par", "ParTimer"} {
		for _, kind := range []string{"memory", "durable"} {
			var base scaleRun
			for _, n := range []int{1_000, 10_000, 100_000, 1_000_000} {
				if kind == "durable" && n > 100_000 {
					continue
				}
				b.Run(fmt.Sprintf("%s/%s/n=%d", wf, kind, n), func(b *testing.B) {
					if base.n == 0 {
						base = medianRun(b, p, wf, kind, scaleBase, 3)
					}
					var r scaleRun
					for range b.N {
						r = runScale(b, p, wf, kind, n)
					}
					b.ReportMetric(r.nsPerItem(), "ns/item")
					b.ReportMetric(r.bytesPerItem(), "logB/item")
					b.ReportMetric(r.heapPerItem(), "heapB/item")
					b.ReportMetric(r.nsPerItem()/base.nsPerItem(), "x-time")
					b.ReportMetric(r.bytesPerItem()/base.bytesPerItem(), "x-log")
					b.ReportMetric(r.heapPerItem()/max(base.heapPerItem(), 1), "x-heap")
				})
			}
		}
	}
}
