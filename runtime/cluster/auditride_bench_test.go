package cluster

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/knhk/knhk/internal/benchways"
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
	seq := 0
	one := func(way string) time.Duration {
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
		return time.Since(t0)
	}
	benchways.Run(b, []string{"none", "separate", "ride", "intent"}, "separate", time.Millisecond, "ms", one)
}
