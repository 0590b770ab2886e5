package cluster

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// BenchmarkAuditRecord measures what a write's audit record costs on
// three nodes over TCP with raft-wal on disk: a start and its record,
// one at a time, for each way of recording it, the ways interleaved in
// rounds in one process. "none" records nothing; "separate" is the
// former design (the start, then an OpAudit entry: losable in a crash);
// "ride" carries the record in the start's own entry (the cluster's own
// group); "intent" commits the record first, then the start (a tenant
// group's write). It reports each way's median latency and its ratio to
// "separate".
func BenchmarkAuditRecord(b *testing.B) {
	prog := compile(b, tenSteps)
	nodes := benchNodes(b, prog, &effects{calls: map[string]int{}})
	l := nodes["n1"]
	other := nodes["n2"] // as the chain's home, l's writes take the intent path
	ways := []string{"none", "separate", "ride", "intent"}
	lat := map[string][]time.Duration{}
	seq := 0
	one := func(way string) {
		seq++
		id := fmt.Sprintf("%s-%d", way, seq)
		cx := context.Background()
		rec := ridingRecord("case_id=" + id)
		switch way {
		case "ride":
			cx = WithAudit(cx, NewAuditRider(l, rec, noIntent))
		case "intent":
			cx = WithAudit(cx, NewAuditRider(other, rec, func(ctx context.Context, r AuditRecord) error {
				_, err := l.Audit(ctx, "", r)
				return err
			}))
		}
		t0 := time.Now()
		if err := l.Start(cx, "", id, "W", []any{"c"}); err != nil {
			b.Fatal(err)
		}
		if way == "separate" {
			if _, err := l.Audit(context.Background(), "", rec()); err != nil {
				b.Fatal(err)
			}
		}
		lat[way] = append(lat[way], time.Since(t0))
	}
	for range 5 { // warm-up
		for _, w := range ways {
			one(w)
		}
	}
	clear(lat)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, w := range ways {
			one(w)
		}
	}
	b.StopTimer()
	med := map[string]time.Duration{}
	for _, w := range ways {
		slices.Sort(lat[w])
		med[w] = lat[w][len(lat[w])/2]
		b.ReportMetric(ms(med[w]), w+"-p50-ms")
	}
	for _, w := range ways {
		b.ReportMetric(float64(med[w])/float64(med["separate"]), w+"/separate")
	}
}
