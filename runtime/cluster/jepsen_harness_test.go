// This file implements the cluster the Jepsen-style test runs: nodes
// with their raft log on disk (so a killed node restarts from it), on
// in-memory transports seen through a faultNet, with an engine clock
// that the nemesis can jump.

package cluster

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/worker"
)

// jumpClock is the engines' clock: real time plus an offset the nemesis
// moves forwards and backwards. (Raft's own timers use Go's monotonic
// clock, which no in-process test can jump.)
type jumpClock struct{ off atomic.Int64 }

func (c *jumpClock) Now() time.Time { return time.Now().Add(time.Duration(c.off.Load())) }

func (c *jumpClock) jump(d time.Duration) { c.off.Add(int64(d)) }

type faultCluster struct {
	t     testing.TB
	prog  *ir.Program
	net   *faultNet
	clock *jumpClock
	ids   []string
	dirs  map[string]string
	// timing overrides fastTiming for some nodes.
	timing map[string]Timing
	mu     sync.Mutex
	nodes  map[string]*Node                // running nodes
	trans  map[string]*raft.InmemTransport // their transports
}

// newFaultCluster starts len(ids) voters, the first bootstrapping.
func newFaultCluster(t *testing.T, prog *ir.Program, net *faultNet, ids []string) *faultCluster {
	return newFaultClusterTimed(t, prog, net, ids, nil)
}

// newFaultClusterTimed is newFaultCluster with some nodes' timing set.
func newFaultClusterTimed(t *testing.T, prog *ir.Program, net *faultNet, ids []string, timing map[string]Timing) *faultCluster {
	c := &faultCluster{t: t, prog: prog, net: net, clock: &jumpClock{}, ids: ids, dirs: map[string]string{}, timing: timing,
		nodes: map[string]*Node{}, trans: map[string]*raft.InmemTransport{}}
	t.Cleanup(func() {
		for _, id := range ids {
			c.stop(id)
		}
	})
	for i, id := range ids {
		c.dirs[id] = t.TempDir()
		n := c.start(id, i == 0)
		if i == 0 {
			waitFor(t, id+" to lead", n.IsLeader)
			continue
		}
		if err := c.leader(t).Join(ctx(t), Member{ID: id, Raft: id, API: "api-" + id}, n.ProgramHash()); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "every node a voter", func() bool {
		cf := c.leader(t).r.GetConfiguration()
		if cf.Error() != nil {
			return false
		}
		v := 0
		for _, s := range cf.Configuration().Servers {
			if s.Suffrage == raft.Voter {
				v++
			}
		}
		return v == len(ids)
	})
	return c
}

// start opens node id from its directory on a fresh transport.
func (c *faultCluster) start(id string, bootstrap bool) *Node {
	c.t.Helper()
	_, tr := raft.NewInmemTransportWithTimeout(raft.ServerAddress(id), time.Second)
	c.mu.Lock()
	for pid, p := range c.trans {
		tr.Connect(raft.ServerAddress(pid), p)
		p.Connect(raft.ServerAddress(id), tr)
	}
	c.trans[id] = tr
	c.mu.Unlock()
	fx := &effects{calls: map[string]int{}}
	timing, ok := c.timing[id]
	if !ok {
		timing = fastTiming
	}
	n, err := NewNode(Config{ID: id, API: "api-" + id, Dir: c.dirs[id], Bootstrap: bootstrap, Program: c.prog, Eval: &host.Evaluator{},
		Worker: worker.New(c.prog, worker.Options{Registry: fx.registry()}), Clock: c.clock,
		Transport: c.net.wrap(id, tr), Timing: timing, Prober: c})
	if err != nil {
		c.t.Fatalf("opening %s: %v", id, err)
	}
	c.mu.Lock()
	c.nodes[id] = n
	c.mu.Unlock()
	return n
}

// stop closes node id (a crash as far as the others can tell: it
// answers nothing until it restarts from its directory).
func (c *faultCluster) stop(id string) {
	c.mu.Lock()
	n := c.nodes[id]
	delete(c.nodes, id)
	tr := c.trans[id]
	delete(c.trans, id)
	for _, p := range c.trans {
		p.Disconnect(raft.ServerAddress(id))
	}
	c.mu.Unlock()
	if n == nil {
		return
	}
	tr.DisconnectAll()
	if err := n.Close(); err != nil {
		c.t.Logf("closing %s: %v", id, err)
	}
}

// Applied implements Prober.
func (c *faultCluster) Applied(_ context.Context, m Member) (uint64, error) {
	n := c.node(m.ID)
	if n == nil {
		return 0, fmt.Errorf("node %s is down", m.ID)
	}
	return n.r.AppliedIndex(), nil
}

func (c *faultCluster) node(id string) *Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[id]
}

// current returns a running node that believes it leads, or nil.
func (c *faultCluster) current() *Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range c.ids {
		if n := c.nodes[id]; n != nil && n.IsLeader() {
			return n
		}
	}
	return nil
}

func (c *faultCluster) leader(t *testing.T) *Node {
	t.Helper()
	var l *Node
	waitFor(t, "a leader", func() bool { l = c.current(); return l != nil })
	return l
}
