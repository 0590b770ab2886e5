// This file implements the in-process clusters the tests share: nodes on
// raft's in-memory transport, a KNHK program compiled as knhk run does,
// and extern tasks that count their calls.

package cluster

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/worker"
)

// testSource has calls, a signal and a timer: each reaches the FSM as an
// event the leader decided.
const testSource = `package replicated

task step(c: string, n: int) -> int extern

workflow W(c: string) -> int {
  signal Go(x: int)
  var got = 0
  let a = step(c, 1)
  let b = step(c, 2)
  select {
    on signal Go(x: int) -> {
      got = x
    }
    on timer 300ms -> {
      got = 100
    }
  }
  let d = step(c, 3)
  return a + b + d + got
}
`

func compile(tb testing.TB, src string) *ir.Program {
	tb.Helper()
	pkg, info, diags := check.CheckSource("replicated.knhk", []byte(src), &check.Config{})
	if diags.HasErrors() {
		tb.Fatalf("check: %v", diags)
	}
	p, ld := compiler.Build(pkg, info)
	if ld.HasErrors() || p == nil {
		tb.Fatalf("gate: %v", ld)
	}
	return p
}

// effects counts the extern calls by case, step and attempt, and can
// hold step calls until released.
type effects struct {
	mu    sync.Mutex
	calls map[string]int
	hold  chan struct{} // nil: answer at once
}

func (e *effects) registry() *worker.Registry {
	r := worker.NewRegistry()
	r.Register("step", func(ctx context.Context, c worker.Call) (eval.Value, error) {
		n := c.Args[1].AsInt()
		e.mu.Lock()
		e.calls[fmt.Sprintf("%s/%d", c.CaseID, n)]++
		h := e.hold
		e.mu.Unlock()
		if h != nil {
			select {
			case <-h:
			case <-ctx.Done():
				return eval.Value{}, ctx.Err()
			}
		}
		return eval.Int(n), nil
	})
	return r
}

func (e *effects) count(key string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls[key]
}

// testCluster is a set of nodes on in-memory transports.
type testCluster struct {
	t     *testing.T
	prog  *ir.Program
	fx    *effects
	mu    sync.Mutex
	nodes map[string]*Node
	trans map[string]*raft.InmemTransport
}

// fastTiming shortens raft's timeouts from a second to a tenth: short
// enough for quick elections, long enough that a loaded machine does
// not depose leaders by missing heartbeats.
var fastTiming = Timing{Heartbeat: timingScale * 100 * time.Millisecond, Election: timingScale * 100 * time.Millisecond,
	Lease: timingScale * 100 * time.Millisecond, Commit: 5 * time.Millisecond, Tick: 20 * time.Millisecond}

func newTestCluster(t *testing.T, prog *ir.Program) *testCluster {
	c := &testCluster{t: t, prog: prog, fx: &effects{calls: map[string]int{}}, nodes: map[string]*Node{}, trans: map[string]*raft.InmemTransport{}}
	t.Cleanup(c.closeAll)
	return c
}

// add starts node id with labels; the first node bootstraps.
func (c *testCluster) add(id string, labels map[string]string, mut func(*Config)) *Node {
	c.t.Helper()
	_, tr := raft.NewInmemTransportWithTimeout(raft.ServerAddress(id), 200*time.Millisecond)
	c.mu.Lock()
	for pid, p := range c.trans {
		tr.Connect(raft.ServerAddress(pid), p)
		p.Connect(raft.ServerAddress(id), tr)
	}
	c.trans[id] = tr
	first := len(c.nodes) == 0
	c.mu.Unlock()
	cfg := Config{ID: id, API: "api-" + id, Labels: labels, Bootstrap: first, Program: c.prog, Eval: &host.Evaluator{},
		Worker: worker.New(c.prog, worker.Options{Registry: c.fx.registry()}), Transport: tr, Timing: fastTiming, Prober: c}
	if mut != nil {
		mut(&cfg)
	}
	n, err := NewNode(cfg)
	if err != nil {
		c.t.Fatal(err)
	}
	c.mu.Lock()
	c.nodes[id] = n
	c.mu.Unlock()
	return n
}

// Applied implements Prober by reading the member's FSM.
func (c *testCluster) Applied(_ context.Context, m Member) (uint64, error) {
	c.mu.Lock()
	n := c.nodes[m.ID]
	c.mu.Unlock()
	if n == nil {
		return 0, fmt.Errorf("no node %s", m.ID)
	}
	return n.r.AppliedIndex(), nil
}

// join starts node id and has the leader add it.
func (c *testCluster) join(id string, labels map[string]string) *Node {
	c.t.Helper()
	n := c.add(id, labels, nil)
	l := c.leader()
	if err := l.Join(ctx(c.t), Member{ID: id, Raft: id, API: "api-" + id, Labels: labels}, n.ProgramHash()); err != nil {
		c.t.Fatal(err)
	}
	return n
}

// kill stops node id and cuts it off.
func (c *testCluster) kill(id string) {
	c.mu.Lock()
	n := c.nodes[id]
	delete(c.nodes, id)
	tr := c.trans[id]
	delete(c.trans, id)
	for _, p := range c.trans {
		p.Disconnect(raft.ServerAddress(id))
	}
	c.mu.Unlock()
	tr.DisconnectAll()
	if err := n.Close(); err != nil {
		c.t.Logf("closing %s: %v", id, err)
	}
}

func (c *testCluster) closeAll() {
	c.mu.Lock()
	ids := sortedKeys(c.nodes)
	c.mu.Unlock()
	for _, id := range ids {
		c.kill(id)
	}
}

// leader waits for a node that leads and runs its engine.
func (c *testCluster) leader() *Node {
	c.t.Helper()
	var l *Node
	waitFor(c.t, "a leader", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, n := range c.nodes {
			if n.IsLeader() {
				l = n
				return true
			}
		}
		return false
	})
	return l
}

func (c *testCluster) node(id string) *Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[id]
}

// voters returns the voter ids of the leader's configuration.
func (c *testCluster) voters() []string {
	cf := c.leader().r.GetConfiguration()
	if err := cf.Error(); err != nil {
		c.t.Fatal(err)
	}
	var out []string
	for _, s := range cf.Configuration().Servers {
		if s.Suffrage == raft.Voter {
			out = append(out, string(s.ID))
		}
	}
	return out
}

// waitFor waits for cond, ten seconds scaled like the raft timings: on
// CI's loaded machine under the race detector an election in a test
// that cuts a leader off took longer than ten seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timingScale * 10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

// nodesProber reads the applied index of nodes it was given.
type nodesProber struct {
	mu sync.Mutex
	m  map[string]*Node
}

func (p *nodesProber) set(id string, n *Node) {
	p.mu.Lock()
	p.m[id] = n
	p.mu.Unlock()
}

func (p *nodesProber) Applied(_ context.Context, m Member) (uint64, error) {
	p.mu.Lock()
	n := p.m[m.ID]
	p.mu.Unlock()
	if n == nil {
		return 0, fmt.Errorf("no node %s", m.ID)
	}
	return n.r.AppliedIndex(), nil
}

// partition cuts node id off from the others, both ways; heal mends it.
func (c *testCluster) partition(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for pid, p := range c.trans {
		if pid != id {
			p.Disconnect(raft.ServerAddress(id))
			c.trans[id].Disconnect(raft.ServerAddress(pid))
		}
	}
}

func (c *testCluster) heal(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for pid, p := range c.trans {
		if pid != id {
			p.Connect(raft.ServerAddress(id), c.trans[id])
			c.trans[id].Connect(raft.ServerAddress(pid), p)
		}
	}
}
