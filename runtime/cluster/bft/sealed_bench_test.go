package bft

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/knhk/knhk/internal/benchways"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/worker"
)

// BenchmarkSealedTenant measures what sealing costs a tenant's start on
// one validator whose every transaction is a block of its own (no
// network): "plain" starts a case in a tenant created without
// --encrypt, "sealed" in one created with it (the command sealed by the
// driver, opened in CheckTx and in the block), the ways interleaved in
// rounds in one process. It reports each way's median latency and its
// ratio to "plain".
func BenchmarkSealedTenant(b *testing.B) {
	c, _ := sealedChain(b, 1)
	a, k := c.apps[0], c.keys[0]
	c.block(0, nil, c.lease(k, 1), c.event(k, 1, c.found(0, "acme", "beta")))
	c.block(0, nil, c.event(k, 1, c.sealing(a.FSM().TenancyRev(), map[string]string{"acme": "encrypt"})))
	bc := &instant{c: c, app: a}
	prog := compile(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	drivers := map[string]*Driver{}
	for way, tenant := range map[string]string{"plain": "beta", "sealed": "acme"} {
		d, err := NewDriver(ctx, prog, &host.Evaluator{}, worker.New(prog, worker.Options{Registry: registry()}), &Log{App: a, Node: bc, Key: k, Term: 1, Tenant: tenant})
		if err != nil {
			b.Fatal(err)
		}
		drivers[way] = d
	}
	seq := 0
	one := func(way string) time.Duration {
		seq++
		id := fmt.Sprintf("%s-%d", way, seq)
		t0 := time.Now()
		if err := drivers[way].Start(ctx, id, "W", []any{id}); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	benchways.Run(b, []string{"plain", "sealed"}, "plain", time.Microsecond, "us", one)
}
