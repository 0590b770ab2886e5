// This file measures Open on a data directory with many ended cases and
// some running ones: from the recovery index against the full scan of
// the log that a directory without one needs.

package server

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// populate fills dir with ended Inc cases and, every ended/live of them,
// a Hold case left waiting, started c at a time, and closes the Service.
func populate(b *testing.B, dir string, ended, live int) {
	s, err := Open(dir, Options{IndexEvery: -1})
	if err != nil {
		b.Fatal(err)
	}
	deployB(b, s)
	ctx := context.Background()
	every := max(ended/max(live, 1), 1)
	var wg sync.WaitGroup
	work := make(chan int)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				r := StartRequest{Workflow: "Inc", Input: []byte(strconv.Itoa(i))}
				if i%every == 0 && i/every < live {
					r = StartRequest{Workflow: "Hold", Input: []byte(`"o"`)}
				}
				id, _, err := s.Start(ctx, r)
				if err != nil {
					b.Error(err)
					return
				}
				if r.Workflow == "Inc" {
					if _, _, err := s.Wait(ctx, id, false); err != nil {
						b.Error(err)
						return
					}
				}
			}
		}()
	}
	for i := range ended + live {
		work <- i
	}
	close(work)
	wg.Wait()
	if err := s.Close(ctx); err != nil {
		b.Fatal(err)
	}
}

func deployB(b *testing.B, s *Service) {
	if _, err := s.Deploy("hold.knhk", []byte(strings.Replace(holdSrc, "package wait\n", "package wait\n\nimport \"std/time\"\n", 1)), nil); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkOpen opens a directory of KNHK_BENCH_CASES (default 5,000)
// ended cases and 1% running ones, from the index and by a full scan,
// and reports the ratio of their times.
func BenchmarkOpen(b *testing.B) {
	ended := 5000
	if v, err := strconv.Atoi(os.Getenv("KNHK_BENCH_CASES")); err == nil && v > 0 {
		ended = v
	}
	live := max(ended/100, 1)
	dir := b.TempDir()
	t0 := time.Now()
	populate(b, dir, ended, live)
	b.Logf("populated %d ended and %d running cases in %v", ended, live, time.Since(t0))
	ctx := context.Background()
	index := dir + "/server/index.jsonl"
	saved, err := os.ReadFile(index)
	if err != nil {
		b.Fatal(err)
	}
	measure := func(b *testing.B, scan bool) time.Duration {
		var total time.Duration
		for b.Loop() {
			if scan {
				os.Remove(index)
			} else if err := os.WriteFile(index, saved, 0o644); err != nil {
				b.Fatal(err)
			}
			t := time.Now()
			s, err := Open(dir, Options{IndexEvery: -1})
			if err != nil {
				b.Fatal(err)
			}
			total += time.Since(t)
			b.StopTimer()
			if st := s.Stats(); st.Cases != ended+live || st.Recovered+st.Parked < live || st.FromIndex == scan {
				b.Fatalf("open stats %+v", st)
			}
			if err := s.Close(ctx); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		return total / time.Duration(b.N)
	}
	var fromIndex, fullScan time.Duration
	b.Run("index", func(b *testing.B) { fromIndex = measure(b, false) })
	b.Run("scan", func(b *testing.B) { fullScan = measure(b, true) })
	if fromIndex > 0 {
		b.Logf("open with %d ended and %d running cases: index %v, full scan %v: %.1fx faster", ended, live, fromIndex, fullScan, float64(fullScan)/float64(fromIndex))
	}
}
