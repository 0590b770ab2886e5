package tenant

import (
	"testing"
	"time"

	"github.com/knhk/knhk/server/auth"
)

// BenchmarkClusterNoisyNeighbour is BenchmarkNoisyNeighbour on three
// cluster nodes in one process: tenant beta's p99 start-to-result
// latency (StartCase then WaitCase through one node, which forwards to
// beta's group leader when it is not it) alone and beside tenant acme
// starting cases from 8 goroutines through the same node:
//
//   - rate10, rate50: at its quota (rate 10/s burst 2, 50/s burst 10),
//     honouring the retry hint;
//   - flood50: at 50/s with in_flight 2, retrying refused calls after
//     1 ms;
//   - unlimited: acme without a quota, for comparison, in rounds of
//     its own after the others'.
//
// The design (shuffled rounds, pooled p99s, the A/A noise floor, the
// bootstrap interval over rounds, the drain between blocks) and why are
// in fairbench_test.go. The three nodes' raft groups, their fsyncs and
// the forwarding share two cores here, so the noise floor is wider than
// on one server: read every ratio against it. KNHK_FAIR_SAMPLES sets
// the quiet cases per condition (default 1,000).
//
//	go test ./server/tenant -run XXX -bench ClusterNoisyNeighbour -benchtime 1x
func BenchmarkClusterNoisyNeighbour(b *testing.B) {
	const per = 20
	f := newClusterFixture(b)
	url := f.follower("beta")
	// The quiet client retries a call answered unavailable (a leadership
	// moving under load), as clusterClient and a cluster's clients do;
	// the retries count in its latency.
	quiet := ownClient(url, f.priv(auth.Principal{Subject: "q", Tenant: "beta", Role: auth.RoleAdmin}), 4, retryUnavailable(10*time.Millisecond))
	noisyTok := f.priv(auth.Principal{Subject: "n", Tenant: "acme", Role: auth.RoleAdmin})
	// each calls fn with every node's open acme.
	each := func(fn func(*served)) {
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, cn := range f.nodes {
			cn.host.mu.Lock()
			s := cn.host.open["acme"]
			cn.host.mu.Unlock()
			if s != nil {
				fn(s)
			}
		}
	}
	setQuota := func(q Quota) {
		reg, _ := Load(f.data)
		reg.Get("acme").Quota = q
		if err := reg.Save(f.data); err != nil {
			b.Fatal(err)
		}
		f.mu.Lock()
		for _, cn := range f.nodes {
			cn.host.mu.Lock()
			cn.host.regTime = time.Time{}
			cn.host.mu.Unlock()
			if err := cn.host.reload(); err != nil {
				f.mu.Unlock()
				b.Fatal(err)
			}
		}
		f.mu.Unlock()
		// At the limit from the block's start (as on one server).
		each(func(s *served) {
			s.mu.Lock()
			s.bucket = emptyBucket(q, time.Now())
			s.mu.Unlock()
		})
	}
	drain := func() {
		for deadline := time.Now().Add(time.Minute); ; {
			n := 0
			each(func(s *served) {
				<-s.ready
				if s.group != nil {
					n += s.group.Running()
				}
			})
			if n == 0 {
				return
			}
			if time.Now().After(deadline) {
				b.Fatal("the neighbour's cases did not end")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	at := func(q Quota) func() { return func() { setQuota(q) } }
	n := fairSamples(1000)
	fb := &fairBench{b: b, rounds: max(1, n/per), per: per, warm: 100, neighbors: 8,
		quiet: quietCase(b, quiet, "Base", "", "0"), drain: drain,
		conds: []fairCond{
			{name: "rate10", set: at(Quota{Rate: 10, Burst: 2}), url: url, token: noisyTok, honour: true, workflow: "Base", rate: 10},
			{name: "rate50", set: at(Quota{Rate: 50, Burst: 10}), url: url, token: noisyTok, honour: true, workflow: "Base", rate: 50},
			{name: "flood50", set: at(Quota{Rate: 50, Burst: 10, InFlight: 2}), url: url, token: noisyTok, workflow: "Base", rate: 50},
		},
		control: []fairCond{
			{name: "unlimited", set: at(Quota{}), url: url, token: noisyTok, honour: true, workflow: "Base"},
		}}
	b.ResetTimer()
	for range b.N {
		fb.measure("cluster")
	}
}
