package bft

import (
	"fmt"
	"testing"
	"time"

	"github.com/knhk/knhk/internal/benchways"
	"github.com/knhk/knhk/runtime/cluster"
)

// BenchmarkAuditRide measures what a start's audit record costs the
// application on one validator whose every transaction is a block of
// its own (no network: what a record adds besides the blocks), the ways
// interleaved in rounds in one process. "none" records nothing; "ride"
// carries the record in a start of the cluster's own space; "tenant"
// in a start of a tenant's space (chained in the cluster's own space);
// "intent" commits the record in an audit transaction first, then the
// tenant's start (the raft mode's way for a tenant's group, here one
// more block: on a network, one more block interval). It reports each
// way's median latency and its ratio to "none".
func BenchmarkAuditRide(b *testing.B) {
	c, ctx, cancel, own, acme := tenantDrivers(b) // driverspace_test.go
	defer cancel()
	if _, err := own.Commit(ctx, c.found(0, "acme")); err != nil {
		b.Fatal(err)
	}
	seq := 0
	one := func(way string) time.Duration {
		seq++
		id := fmt.Sprintf("%s-%d", way, seq)
		rec := *c.auditRec("StartCase", "ops")
		rec.Targets = []string{"case_id=" + id}
		cx := ctx
		if way != "none" {
			cx = cluster.WithAudit(ctx, cluster.NewAuditRiderOn(c.apps[0].FSM(), func() cluster.AuditRecord { return rec }, nil))
		}
		d := acme
		if way == "none" || way == "ride" {
			d = own
		}
		t0 := time.Now()
		if way == "intent" {
			if _, err := own.Audit(ctx, "", rec); err != nil {
				b.Fatal(err)
			}
			cx = ctx
		}
		if err := d.Start(cx, id, "W", []any{id}); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	benchways.Run(b, []string{"none", "ride", "tenant", "intent"}, "none", time.Microsecond, "us", one)
}
