package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/store"
	"github.com/knhk/knhk/runtime/worker"
)

// tenSteps is the benchmark workload: ten task calls in sequence.
const tenSteps = `package bench

task step(c: string, n: int) -> int extern

workflow W(c: string) -> int {
  let a1 = step(c, 1)
  let a2 = step(c, 2)
  let a3 = step(c, 3)
  let a4 = step(c, 4)
  let a5 = step(c, 5)
  let a6 = step(c, 6)
  let a7 = step(c, 7)
  let a8 = step(c, 8)
  let a9 = step(c, 9)
  let a10 = step(c, 10)
  return a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10
}
`

// parallelCases is how many cases run at once in the benchmark, so
// that group commit (single node) and raft's batching (cluster) have
// something to batch.
const parallelCases = 32

// BenchmarkTenStepCases runs b.N cases of a ten-step workflow on a
// single node's durable store (the log of knhk serve) and on a
// three-node cluster over TCP on loopback with raft-wal on disk, in the
// same run, and reports both rates, their ratio and the cluster's
// start-commit latency.
func BenchmarkTenStepCases(b *testing.B) {
	prog := compile(b, tenSteps)
	fx := &effects{calls: map[string]int{}}
	single := benchSingle(b, prog, fx)
	cl, p50, p99 := benchCluster(b, prog, fx)
	b.ReportMetric(single, "single-cases/s")
	b.ReportMetric(cl, "cluster-cases/s")
	b.ReportMetric(cl/single, "cluster/single")
	b.ReportMetric(float64(p50.Microseconds())/1000, "start-p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "start-p99-ms")
}

func benchSingle(b *testing.B, prog *ir.Program, fx *effects) float64 {
	st, err := store.Open(b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	eng, err := engine.New(engine.Config{Program: prog, Eval: &host.Evaluator{}, Worker: worker.New(prog, worker.Options{Registry: fx.registry()}),
		Log: engine.StoreLog{Store: st}})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	runParallel(b, b.N, func(i int) error {
		return eng.Start(context.Background(), fmt.Sprintf("s%d", i), "W", []any{"s"})
	})
	return float64(b.N) / time.Since(start).Seconds()
}

func benchCluster(b *testing.B, prog *ir.Program, fx *effects) (float64, time.Duration, time.Duration) {
	nodes := benchNodes(b, prog, fx)
	var mu sync.Mutex
	var lat []time.Duration
	b.ResetTimer()
	start := time.Now()
	runParallel(b, b.N, func(i int) error {
		id := fmt.Sprintf("c%d", i)
		t0 := time.Now()
		// A client retries with the same request id when the outcome
		// is unknown (a leader lost its lead on this loaded machine).
		for try := 0; ; try++ {
			err := leaderOf(nodes).Start(context.Background(), id, id, "W", []any{"c"})
			if err == nil {
				break
			}
			if try == 50 || !errors.Is(err, ErrMaybeCommitted) && !errors.Is(err, ErrNotLeader) {
				return err
			}
			time.Sleep(20 * time.Millisecond)
		}
		d := time.Since(t0)
		mu.Lock()
		lat = append(lat, d)
		mu.Unlock()
		for {
			if st, _, ok := nodes["n1"].FSM().Case(id); ok && st.Done() {
				return nil
			}
			time.Sleep(time.Millisecond)
		}
	})
	rate := float64(b.N) / time.Since(start).Seconds()
	slices.Sort(lat)
	return rate, lat[len(lat)/2], lat[len(lat)*99/100]
}

func runParallel(b *testing.B, n int, f func(int) error) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallelCases)
	errs := make(chan error, 1)
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := f(i); err != nil {
				select {
				case errs <- err:
				default:
				}
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
}

// benchNodes starts three nodes of prog over TCP on loopback with
// raft-wal on disk, n1 leading with three voters; they close when b
// ends.
func benchNodes(b *testing.B, prog *ir.Program, fx *effects) map[string]*Node {
	timing := Timing{Heartbeat: 300 * time.Millisecond, Election: 300 * time.Millisecond, Lease: 150 * time.Millisecond, Commit: 5 * time.Millisecond, Tick: 50 * time.Millisecond}
	probe := &nodesProber{m: map[string]*Node{}}
	nodes := map[string]*Node{}
	b.Cleanup(func() {
		for _, n := range nodes {
			n.Close()
		}
	})
	for i, id := range []string{"n1", "n2", "n3"} {
		n, err := NewNode(Config{ID: id, Raft: "127.0.0.1:0", Dir: b.TempDir(), Bootstrap: i == 0, Program: prog, Eval: &host.Evaluator{},
			Worker: worker.New(prog, worker.Options{Registry: fx.registry()}), Timing: timing, Prober: probe})
		if err != nil {
			b.Fatal(err)
		}
		nodes[id] = n
		probe.set(id, n)
		if i == 0 {
			deadline := time.Now().Add(10 * time.Second)
			for !n.IsLeader() && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			continue
		}
		if err := nodes["n1"].Join(context.Background(), Member{ID: id, Raft: n.RaftAddr()}, n.ProgramHash()); err != nil {
			b.Fatal(err)
		}
	}
	l := nodes["n1"]
	deadline := time.Now().Add(10 * time.Second)
	for len(voters(l)) < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	return nodes
}
