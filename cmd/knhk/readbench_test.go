// This file benchmarks the read commands on one long case at two log
// sizes, to show that their memory follows a case's state, not the log.

package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"
)

const loopSource = `package loop

workflow Loop(n: int) -> int {
  var i = 0
  query count -> int = i
  while i < n {
    i = i + 1
  }
  return i
}
`

// benchDataDir runs Loop(n) into a fresh data directory and returns it
// with the case id. It uses /dev/shm when there is one: the point is the
// readers, and a tmpfs makes writing a long log take seconds, not minutes.
func benchDataDir(b *testing.B, n int) (string, string) {
	b.Helper()
	root := b.TempDir()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "knhk-bench-"); err == nil {
			root = d
			b.Cleanup(func() { os.RemoveAll(d) })
		}
	}
	file := filepath.Join(root, "loop.knhk")
	if err := os.WriteFile(file, []byte(loopSource), 0o666); err != nil {
		b.Fatal(err)
	}
	data := filepath.Join(root, "data")
	var errb strings.Builder
	e := &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: &errb}
	if code := run(e, []string{"run", "--data", data, "--input-json", fmt.Sprint(n), file}); code != exitOK {
		b.Fatalf("run Loop(%d): %s", n, errb.String())
	}
	m := startedRE.FindStringSubmatch(errb.String())
	if m == nil {
		b.Fatalf("no case id in %q", errb.String())
	}
	return data, m[1]
}

// peakLiveHeap runs fn while sampling the live heap (as of the latest
// GC, which it makes frequent) and returns the largest sample.
func peakLiveHeap(fn func()) uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var peak uint64
	var mu sync.Mutex
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				metrics.Read(sample)
				mu.Lock()
				peak = max(peak, sample[0].Value.Uint64())
				mu.Unlock()
			}
		}
	})
	runtime.GC()
	fn()
	runtime.GC()
	close(done)
	wg.Wait()
	metrics.Read(sample)
	return max(peak, sample[0].Value.Uint64())
}

// BenchmarkReadLongCase runs cases, query, history and export on one case
// of Loop(n) for n and 10n iterations. It reports B/op and the peak live
// heap, and on the 10n run each as a multiple of the n run (x-log-1x):
// close to 1 means memory does not grow with the log. cases and query
// start from the case's latest snapshot, so even their allocation stays
// flat; history and export decode every event (allocation grows with the
// log) but hold one at a time.
func BenchmarkReadLongCase(b *testing.B) {
	const small = 20000
	sizes := []int{small, 10 * small}
	type dir struct{ data, id string }
	dirs := map[int]dir{}
	for _, n := range sizes {
		data, id := benchDataDir(b, n)
		dirs[n] = dir{data, id}
	}
	commands := map[string]func(d dir) []string{
		"cases":   func(d dir) []string { return []string{"cases", "--data", d.data} },
		"query":   func(d dir) []string { return []string{"query", "--data", d.data, d.id, "count"} },
		"history": func(d dir) []string { return []string{"history", "--data", d.data, d.id} },
		"export":  func(d dir) []string { return []string{"export", "--data", d.data, "--csv", d.id} },
	}
	for _, name := range []string{"cases", "query", "history", "export"} {
		allocs, peaks := map[int]float64{}, map[int]float64{}
		for _, n := range sizes {
			b.Run(fmt.Sprintf("%s/iterations=%d", name, n), func(b *testing.B) {
				args := commands[name](dirs[n])
				e := &env{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard}
				peak := peakLiveHeap(func() {
					if code := run(e, args); code != exitOK {
						b.Fatalf("%v: exit %d", args, code)
					}
				})
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				b.ResetTimer()
				for b.Loop() {
					if code := run(e, args); code != exitOK {
						b.Fatalf("%v: exit %d", args, code)
					}
				}
				b.StopTimer()
				runtime.ReadMemStats(&after)
				perOp := float64(after.TotalAlloc-before.TotalAlloc) / float64(b.N)
				allocs[n], peaks[n] = perOp, float64(peak)
				b.ReportMetric(float64(peak), "peak-live-B")
				if n != small && allocs[small] > 0 {
					b.ReportMetric(perOp/allocs[small], "B/op-x-log-1x")
					b.ReportMetric(float64(peak)/peaks[small], "peak-x-log-1x")
				}
			})
		}
		if allocs[small] > 0 && allocs[10*small] > 0 {
			b.Logf("%s: a 10x longer log costs %.2fx the bytes allocated per run and %.2fx the peak live heap (%.0f -> %.0f B)",
				name, allocs[10*small]/allocs[small], peaks[10*small]/peaks[small], peaks[small], peaks[10*small])
		}
	}
}
