// This file holds the commit benchmarks: commits per second and commit
// latency for clusters of 1, 3 and 5 nodes over TCP on loopback, and of
// 3 and 5 nodes spread over three simulated regions; each configuration
// runs in the same process as its baseline and reports the ratio.

package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/worker"
)

// commitClients is how many clients propose at once: raft's leader
// batches what arrives while a round trip is in flight.
const commitClients = 64

// benchNet says how the benchmark's nodes reach each other: TCP on
// loopback (net nil) or in-memory transports through a faultNet.
type benchNet struct {
	net    *faultNet
	timing Timing
}

// commitStats is one configuration's measurement.
type commitStats struct {
	rate     float64 // commands committed per second, measured by clients
	entries  float64 // raft log entries applied per second on the leader
	p50, p99 time.Duration
}

// regionOf places node i of a benchmark in one of three regions, round
// robin: 3 nodes one per region, 5 nodes two, two and one.
func regionOf(id string) string {
	var i int
	fmt.Sscanf(id, "n%d", &i)
	return string(rune('a' + (i-1)%3))
}

// threeRegions is the one-way delay between the simulated regions: a-b
// 30 ms, b-c 60 ms, a-c 90 ms; within a region half a millisecond.
func threeRegions(from, to string) time.Duration {
	ra, rb := regionOf(from), regionOf(to)
	if ra > rb {
		ra, rb = rb, ra
	}
	switch ra + rb {
	case "ab":
		return 30 * time.Millisecond
	case "bc":
		return 60 * time.Millisecond
	case "ac":
		return 90 * time.Millisecond
	}
	return 500 * time.Microsecond
}

// startBenchCluster starts size voters, n1 leading.
func startBenchCluster(b *testing.B, prog *ir.Program, size int, bn benchNet) map[string]*Node {
	fx := &effects{calls: map[string]int{}}
	probe := &nodesProber{m: map[string]*Node{}}
	nodes := map[string]*Node{}
	trans := map[string]*raft.InmemTransport{}
	b.Cleanup(func() {
		for _, n := range nodes {
			n.Close()
		}
	})
	for i := range size {
		id := fmt.Sprintf("n%d", i+1)
		cfg := Config{ID: id, Raft: "127.0.0.1:0", Dir: b.TempDir(), Bootstrap: i == 0, Program: prog, Eval: &host.Evaluator{},
			Worker: worker.New(prog, worker.Options{Registry: fx.registry()}), Timing: bn.timing, Prober: probe, Voters: size,
			Labels: map[string]string{"region": regionOf(id)}}
		if bn.net != nil {
			_, tr := raft.NewInmemTransportWithTimeout(raft.ServerAddress(id), 5*time.Second)
			for pid, p := range trans {
				tr.Connect(raft.ServerAddress(pid), p)
				p.Connect(raft.ServerAddress(id), tr)
			}
			trans[id] = tr
			cfg.Transport = bn.net.wrap(id, tr)
		}
		n, err := NewNode(cfg)
		if err != nil {
			b.Fatal(err)
		}
		nodes[id] = n
		probe.set(id, n)
		if i == 0 {
			waitBench(b, "n1 to lead", n.IsLeader)
			continue
		}
		if err := nodes["n1"].Join(context.Background(), Member{ID: id, Raft: n.RaftAddr(), Labels: cfg.Labels}, n.ProgramHash()); err != nil {
			b.Fatal(err)
		}
	}
	waitBench(b, fmt.Sprintf("%d voters", size), func() bool { return len(voters(nodes["n1"])) == size })
	return nodes
}

func waitBench(b *testing.B, what string, cond func() bool) {
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// measureCommits has commitClients clients start n cases of the
// register workflow (one command each: the case then waits for a
// signal) and times each start from call to acknowledgement.
func measureCommits(b *testing.B, nodes map[string]*Node, n int, prefix string) commitStats {
	l := leaderOf(nodes)
	idx0 := l.r.AppliedIndex()
	var mu sync.Mutex
	lat := make([]time.Duration, 0, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, commitClients)
	var firstErr error
	start := time.Now()
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			id := fmt.Sprintf("%s%d", prefix, i)
			t0 := time.Now()
			var err error
			for try := 0; try < 50; try++ {
				if err = leaderOf(nodes).Start(context.Background(), id, id, "R", []any{id}); err == nil {
					break
				}
				if !errors.Is(err, ErrMaybeCommitted) && !errors.Is(err, ErrNotLeader) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			d := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			lat = append(lat, d)
		}()
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	slices.Sort(lat)
	return commitStats{rate: float64(n) / el, entries: float64(leaderOf(nodes).r.AppliedIndex()-idx0) / el,
		p50: lat[len(lat)/2], p99: lat[len(lat)*99/100]}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func reportCommits(b *testing.B, name string, s commitStats) {
	b.ReportMetric(s.rate, name+"-commits/s")
	b.ReportMetric(ms(s.p50), name+"-p50-ms")
	b.ReportMetric(ms(s.p99), name+"-p99-ms")
}

// BenchmarkCommitsLoopback measures b.N starts on a single-node cluster
// (the baseline: raft-wal's fsync, no replication), then on three and
// five nodes over TCP on loopback, each with raft-wal on disk.
func BenchmarkCommitsLoopback(b *testing.B) {
	prog := compile(b, registerSource)
	bn := benchNet{timing: Timing{Heartbeat: 500 * time.Millisecond, Election: 500 * time.Millisecond, Lease: 250 * time.Millisecond,
		Commit: 5 * time.Millisecond, Tick: 50 * time.Millisecond}}
	var base commitStats
	for _, size := range []int{1, 3, 5} {
		nodes := startBenchCluster(b, prog, size, bn)
		s := measureCommits(b, nodes, b.N, fmt.Sprintf("s%d-", size))
		name := fmt.Sprintf("%dn", size)
		reportCommits(b, name, s)
		if size == 1 {
			base = s
			continue
		}
		b.ReportMetric(s.rate/base.rate, name+"/1n-rate")
	}
}

// BenchmarkCommitsThreeRegions measures b.N starts on three and five
// nodes whose messages take 30/60/90 ms one way between regions (n1,
// the leader, in region a), against the same cluster with no delay in
// the same run. The target is a p99 commit under 250 ms.
func BenchmarkCommitsThreeRegions(b *testing.B) {
	prog := compile(b, registerSource)
	timing := Timing{Heartbeat: time.Second, Election: time.Second, Lease: 500 * time.Millisecond, Commit: 5 * time.Millisecond, Tick: 50 * time.Millisecond}
	for _, size := range []int{3, 5} {
		flat := newFaultNet(1)
		nodes := startBenchCluster(b, prog, size, benchNet{net: flat, timing: timing})
		base := measureCommits(b, nodes, b.N, "flat-")
		far := newFaultNet(2)
		far.oneWay = threeRegions
		nodes = startBenchCluster(b, prog, size, benchNet{net: far, timing: timing})
		s := measureCommits(b, nodes, b.N, "far-")
		name := fmt.Sprintf("%dn", size)
		reportCommits(b, name+"-flat", base)
		reportCommits(b, name+"-regions", s)
		b.ReportMetric(s.rate/base.rate, name+"-regions/flat-rate")
	}
}

// BenchmarkFailover kills the leader of a three-node in-memory cluster
// b.N times and times the kill until a client's start is acknowledged
// by the new leader; the ratio is against the election timeout the
// nodes run with. The killed node restarts from its log before the next
// kill.
func BenchmarkFailover(b *testing.B) {
	prog := compile(b, registerSource)
	timing := Timing{Heartbeat: 200 * time.Millisecond, Election: 200 * time.Millisecond, Lease: 100 * time.Millisecond, Commit: 5 * time.Millisecond, Tick: 20 * time.Millisecond}
	c := &faultCluster{t: b, prog: prog, net: newFaultNet(3), clock: &jumpClock{}, ids: []string{"n1", "n2", "n3"}, dirs: map[string]string{},
		timing: map[string]Timing{"n1": timing, "n2": timing, "n3": timing}, nodes: map[string]*Node{}, trans: map[string]*raft.InmemTransport{}}
	b.Cleanup(func() {
		for _, id := range c.ids {
			c.stop(id)
		}
	})
	for i, id := range c.ids {
		c.dirs[id] = b.TempDir()
		n := c.start(id, i == 0)
		if i == 0 {
			waitBench(b, "n1 to lead", n.IsLeader)
			continue
		}
		if err := c.current().Join(context.Background(), Member{ID: id, Raft: id}, n.ProgramHash()); err != nil {
			b.Fatal(err)
		}
	}
	allVoters := func() bool { l := c.current(); return l != nil && len(voters(l)) == 3 }
	waitBench(b, "3 voters", allVoters)
	var took []time.Duration
	for i := range b.N {
		var old *Node
		waitBench(b, "a leader", func() bool { old = c.current(); return old != nil })
		t0 := time.Now()
		c.stop(old.ID())
		id := fmt.Sprintf("f%d", i)
		for {
			if time.Since(t0) > 30*time.Second {
				b.Fatalf("kill %d: no new leader acknowledged a start within 30s", i)
			}
			l := c.current()
			if l != nil {
				cctx, cancel := context.WithTimeout(context.Background(), time.Second)
				err := l.Start(cctx, id, id, "R", []any{id})
				cancel()
				if err == nil {
					break
				}
			}
			time.Sleep(time.Millisecond)
		}
		took = append(took, time.Since(t0))
		c.start(old.ID(), false)
		waitBench(b, "the old leader to catch up", func() bool {
			n := c.node(old.ID())
			return allVoters() && n.FSM().Events(id) > 0
		})
	}
	slices.Sort(took)
	med := took[len(took)/2]
	b.ReportMetric(ms(med), "failover-median-ms")
	b.ReportMetric(ms(took[len(took)-1]), "failover-max-ms")
	b.ReportMetric(float64(med)/float64(timing.Election), "failover/election-timeout")
}
