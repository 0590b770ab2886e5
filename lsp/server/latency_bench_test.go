package server

import (
	"context"
	"sort"
	"testing"
	"time"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

// arrivals is a client that timestamps each publishDiagnostics.
type arrivals struct {
	protocol.UnimplementedClient
	ch chan arrival
}

type arrival struct {
	version int32
	at      time.Time
}

func (c *arrivals) PublishDiagnostics(ctx context.Context, p *protocol.PublishDiagnosticsParams) error {
	v, _ := p.Version.Get()
	c.ch <- arrival{v, time.Now()}
	return nil
}

// typingLatency types a burst of keystrokes into a 5,000-line file, one
// every gap, then stops, and returns how long after the last keystroke its
// diagnostics arrived: the first publish of that version, and the last
// (the soundness gate's, when it comes separately).
func typingLatency(tb testing.TB, s *Server, u uri.URI, c *arrivals, version *int32, gap time.Duration) (first, last time.Duration) {
	const keys = 3
	var lastKey time.Time
	for k := 0; k < keys; k++ {
		*version++
		edit(tb, s, u, *version)
		lastKey = time.Now()
		if k < keys-1 {
			time.Sleep(gap)
		}
	}
	want := *version
	for {
		select {
		case a := <-c.ch:
			if a.version != want {
				continue
			}
			if first == 0 {
				first = a.at.Sub(lastKey)
			}
			last = a.at.Sub(lastKey)
		case <-time.After(100 * time.Millisecond):
			if first != 0 {
				return first, last
			}
		case <-time.After(20 * time.Second):
			tb.Fatalf("no diagnostics for version %d", want)
		}
	}
}

func median(ds []time.Duration) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

// BenchmarkDiagnosticsAfterTyping5000 measures, for a 5,000-line file, the
// time from the last keystroke of a burst (3 keys, 60 ms apart) to its
// diagnostics, with the adaptive debounce and, as the baseline in the same
// run, the fixed 150 ms debounce the server used before. It reports the
// medians and their ratio.
func BenchmarkDiagnosticsAfterTyping5000(b *testing.B) {
	src := program(5000)
	measure := func(debounce time.Duration) (first, last time.Duration) {
		s, u := quietServer(b, src)
		s.opts.Debounce = debounce
		c := &arrivals{ch: make(chan arrival, 64)}
		s.client = c
		version := int32(1)
		typingLatency(b, s, u, c, &version, 60*time.Millisecond) // warm up the adaptive delay
		var firsts, lasts []time.Duration
		for i := 0; i < b.N; i++ {
			f, l := typingLatency(b, s, u, c, &version, 60*time.Millisecond)
			firsts, lasts = append(firsts, f), append(lasts, l)
		}
		return median(firsts), median(lasts)
	}
	b.ResetTimer()
	oldFirst, oldLast := measure(150 * time.Millisecond)
	newFirst, newLast := measure(0)
	b.StopTimer()
	b.ReportMetric(float64(newFirst.Microseconds())/1000, "ms-to-diagnostics")
	b.ReportMetric(float64(newLast.Microseconds())/1000, "ms-to-soundness")
	b.ReportMetric(float64(oldFirst.Microseconds())/1000, "ms-baseline-150ms")
	b.ReportMetric(float64(newFirst)/float64(oldFirst), "ratio")
	b.Logf("median after the last keystroke: adaptive %v (soundness %v), fixed 150 ms debounce %v (soundness %v); ratio %.2f",
		newFirst, newLast, oldFirst, oldLast, float64(newFirst)/float64(oldFirst))
}
