// This file tests tenant groups: raft groups that share the nodes' raft
// listeners (GroupMux) and follow the cluster's membership, each with
// its own cases; a licence decided by each group's leader; usage counted
// from the log the same on every node; and a leader kill.

package cluster

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/license"
	"github.com/knhk/knhk/runtime/worker"
)

// groupNode is one node: its mux, the cluster's own group and the
// tenants' groups.
type groupNode struct {
	id     string
	mux    *GroupMux
	own    *Node
	groups map[string]*Node
	cancel context.CancelFunc
}

type groupCluster struct {
	t      *testing.T
	prog   *ir.Program
	fx     *effects
	probes map[string]*nodesProber // by group ("" for the cluster's own)
	timing Timing                  // fastTiming unless set
	ca     *testCA                 // raft over mutual TLS when set
	limit  int64                   // tenant b's licence: concurrent cases (default 1)
	// disk keeps each group's raft log under disk/NODE/GROUP and each
	// node's raft address by id, so that a node restarts from both.
	disk  string
	addrs map[string]string
	mu    sync.Mutex
	nodes map[string]*groupNode
}

func newGroupCluster(t *testing.T) *groupCluster {
	c := &groupCluster{t: t, prog: compile(t, testSource), fx: &effects{calls: map[string]int{}}, probes: map[string]*nodesProber{}, nodes: map[string]*groupNode{}, timing: fastTiming}
	t.Cleanup(func() {
		c.mu.Lock()
		ids := sortedKeys(c.nodes)
		c.mu.Unlock()
		for _, id := range ids {
			c.kill(id)
		}
	})
	return c
}

func (c *groupCluster) prober(group string) *nodesProber {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.probes[group]
	if p == nil {
		p = &nodesProber{m: map[string]*Node{}}
		c.probes[group] = p
	}
	return p
}

// open starts group name ("" for the cluster's own) on node g; the
// first node bootstraps every group.
func (c *groupCluster) open(g *groupNode, name string, founder bool, admit func(string) (func(), error), attach func(*Node)) *Node {
	c.t.Helper()
	tr, err := g.mux.Transport(name, io.Discard)
	if err != nil {
		c.t.Fatal(err)
	}
	dir := ""
	if c.disk != "" {
		dir = filepath.Join(c.disk, g.id, "group-"+name)
	}
	n, err := NewNode(Config{ID: g.id, API: "api-" + g.id, Dir: dir, Bootstrap: founder, Program: c.prog, Eval: &host.Evaluator{},
		Worker: worker.New(c.prog, worker.Options{Registry: c.fx.registry()}), Transport: tr, Timing: c.timing, Prober: c.prober(name),
		AdmitStart: admit})
	if err != nil {
		c.t.Fatal(err)
	}
	if attach != nil {
		attach(n)
	}
	c.prober(name).set(g.id, n)
	return n
}

// start starts node id with tenants a and b; b's groups enforce a
// licence of one concurrent case.
func (c *groupCluster) start(id string, founder bool) *groupNode {
	return c.startWith(id, founder, "a", "b")
}

// startWith starts node id with the groups of tenants; b's enforces the
// licence.
func (c *groupCluster) startWith(id string, founder bool, tenants ...string) *groupNode {
	c.t.Helper()
	var mux *GroupMux
	var err error
	addr := "127.0.0.1:0"
	c.mu.Lock()
	if a := c.addrs[id]; a != "" {
		addr = a // a restart listens where the others dial it
	}
	c.mu.Unlock()
	if c.ca != nil {
		mux, err = ListenTLSGroupMux(addr, c.ca.config(c.t, id))
	} else {
		mux, err = ListenTCPGroupMux(addr, "")
	}
	if err != nil {
		c.t.Fatal(err)
	}
	g := &groupNode{id: id, mux: mux, groups: map[string]*Node{}}
	c.mu.Lock()
	if c.addrs == nil {
		c.addrs = map[string]string{}
	}
	c.addrs[id] = mux.Addr().String()
	c.mu.Unlock()
	g.own = c.open(g, "", founder, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	for _, name := range tenants {
		var admit func(string) (func(), error)
		var attach func(*Node)
		if name == "b" {
			gate := NewLicenseGate(license.NewEnforcer(&license.License{Payload: license.Payload{Tier: "small", Limits: license.Limits{ConcurrentCases: ptr(max(c.limit, 1))}, Expires: time.Now().Add(time.Hour)}}))
			admit, attach = gate.AdmitStart, gate.Attach
		}
		n := c.open(g, name, founder, admit, attach)
		g.groups[name] = n
		go n.Follow(ctx, g.own)
	}
	c.mu.Lock()
	c.nodes[id] = g
	c.mu.Unlock()
	return g
}

func ptr[T any](v T) *T { return &v }

func (c *groupCluster) kill(id string) {
	c.mu.Lock()
	g := c.nodes[id]
	delete(c.nodes, id)
	c.mu.Unlock()
	if g == nil {
		return
	}
	g.cancel()
	for _, n := range g.groups {
		n.Close()
	}
	g.own.Close()
	g.mux.Close()
}

// leader waits for the leader of group name ("" for the cluster's own).
func (c *groupCluster) leader(name string) *Node {
	c.t.Helper()
	var l *Node
	waitFor(c.t, "a leader of group "+name, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, g := range c.nodes {
			n := g.own
			if name != "" {
				n = g.groups[name]
			}
			if n.IsLeader() {
				l = n
				return true
			}
		}
		return false
	})
	return l
}

// voters counts the voters of the leader of group name.
func (c *groupCluster) voters(name string) int {
	cf := c.leader(name).Raft().GetConfiguration()
	if cf.Error() != nil {
		return 0
	}
	v := 0
	for _, s := range cf.Configuration().Servers {
		if s.Suffrage.String() == "Voter" {
			v++
		}
	}
	return v
}

// retry calls do on the leader of group name until it answers other
// than "leadership moved", as a client retries with the same request
// id (a loaded machine under the race detector moves leaders).
func (c *groupCluster) retry(name string, do func(*Node) error) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := do(c.leader(name))
		if (!errors.Is(err, ErrMaybeCommitted) && !errors.Is(err, ErrNotLeader)) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestTenantGroups(t *testing.T) {
	c := newGroupCluster(t)
	n1 := c.start("n1", true)
	c.leader("")
	for _, id := range []string{"n2", "n3"} {
		g := c.start(id, false)
		if err := c.leader("").Join(ctx(t), Member{ID: id, Raft: g.mux.Addr().String(), API: "api-" + id}, n1.own.ProgramHash()); err != nil {
			t.Fatal(err)
		}
	}
	// Every tenant group follows the cluster onto the three nodes.
	for _, name := range []string{"", "a", "b"} {
		waitFor(t, "three voters in group "+name, func() bool { return c.voters(name) == 3 })
	}

	// The same case id in two tenants names two cases; one tenant's case
	// is unknown in the other.
	for _, s := range [][3]string{{"a", "ra1", "shared"}, {"a", "ra2", "only-a"}, {"b", "rb1", "shared"}} {
		if err := c.retry(s[0], func(n *Node) error { return n.Start(ctx(t), s[1], s[2], "W", []any{"from-" + s[0]}) }); err != nil {
			t.Fatal(err)
		}
	}
	a, b := c.leader("a"), c.leader("b")
	if err := c.retry("b", func(n *Node) error { _, err := n.Get(ctx(t), "only-a", Linearizable); return err }); !errors.Is(err, engine.ErrUnknownCase) {
		t.Fatalf("tenant b reads tenant a's case: %v", err)
	}
	if err := c.retry("b", func(n *Node) error { return n.Signal(ctx(t), "rb-sig", "only-a", "Go", []any{int64(1)}) }); !errors.Is(err, engine.ErrUnknownCase) {
		t.Fatalf("tenant b signals tenant a's case: %v", err)
	}
	if err := c.retry("b", func(n *Node) error { return n.Cancel(ctx(t), "rb-cancel", "only-a") }); !errors.Is(err, engine.ErrUnknownCase) {
		t.Fatalf("tenant b cancels tenant a's case: %v", err)
	}
	for _, g := range []*Node{a, b} {
		if got := g.FSM().Cases(false); len(got) != map[*Node]int{a: 2, b: 1}[g] {
			t.Fatalf("%v", got)
		}
	}

	// b's licence allows one running case: a second start is refused,
	// naming the limit, while the running one goes on to its end (its
	// 300ms timer) and a start is admitted again after it.
	err := c.retry("b", func(n *Node) error { _, err := n.StartKeyed(ctx(t), "rb2", "", "second", "W", []any{"y"}); return err })
	var le *license.LimitError
	if !errors.As(err, &le) || le.Limit != license.LimitConcurrentCases || !strings.Contains(err.Error(), "concurrent_cases") ||
		!errors.Is(err, ErrNotAdmitted) || !errors.Is(err, license.ErrLimit) {
		t.Fatalf("second start of b: %v", err)
	}
	waitFor(t, "b's running case to end", func() bool {
		v, err := c.leader("b").Get(ctx(t), "shared", Linearizable)
		return err == nil && v.State.Done()
	})
	if err := c.retry("b", func(n *Node) error { return n.Start(ctx(t), "rb3", "third", "W", []any{"z"}) }); err != nil {
		t.Fatalf("start after the running case ended: %v", err)
	}

	// Every replica of a counts the same usage from the log.
	waitFor(t, "a's cases to end", func() bool {
		return len(a.FSM().Cases(true)) == 0
	})
	month := UsageMonth(time.Now().UnixNano())
	var want Usage
	waitFor(t, "the same usage on every node", func() bool {
		var us []Usage
		c.mu.Lock()
		for _, g := range c.nodes {
			u, err := g.groups["a"].FSM().Usage(month)
			if err != nil {
				t.Error(err)
			}
			us = append(us, u)
		}
		c.mu.Unlock()
		for _, u := range us[1:] {
			if u != us[0] {
				return false
			}
		}
		want = us[0]
		return true
	})
	if want.Cases != 2 || want.Transitions == 0 || want.Digest == "" {
		t.Fatalf("usage of a: %+v", want)
	}
	if want.TaskTimeNS <= 0 || want.FirstIndex == 0 || want.LastIndex < want.FirstIndex {
		t.Fatalf("usage of a: %+v", want)
	}
	if m, err := NewMeter(a.FSM()).Month(month); err != nil || m.Cases != want.Cases || m.Transitions != want.Transitions || m.Events != want.Events ||
		m.StorageBytes != want.StorageBytes || m.FirstIndex != want.FirstIndex || m.LastIndex != want.LastIndex {
		t.Fatalf("meter %+v, usage %+v (%v)", m, want, err)
	}

	// Kill a's leader: a new one takes over a, and its case finishes.
	if err := c.retry("a", func(n *Node) error { return n.Start(ctx(t), "ra3", "after", "W", []any{"k"}) }); err != nil {
		t.Fatal(err)
	}
	a = c.leader("a")
	c.kill(a.ID())
	a2 := c.leader("a")
	if a2.ID() == a.ID() {
		t.Fatal("the killed node still leads")
	}
	waitFor(t, "a's case to finish on the new leader", func() bool {
		v, err := a2.Get(ctx(t), "after", Linearizable)
		return err == nil && v.State.Done()
	})
	if _, err := c.leader("b").Get(ctx(t), "after", Linearizable); !errors.Is(err, engine.ErrUnknownCase) {
		t.Fatalf("tenant b reads a's case after the failover: %v", err)
	}

	// Removing the killed node from the cluster removes it from every
	// tenant's group too.
	if err := c.retry("", func(n *Node) error { return n.Remove(ctx(t), a.ID()) }); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b"} {
		waitFor(t, "group "+name+" to drop the removed node", func() bool {
			cf := c.leader(name).Raft().GetConfiguration()
			if cf.Error() != nil {
				return false
			}
			for _, s := range cf.Configuration().Servers {
				if string(s.ID) == a.ID() {
					return false
				}
			}
			return len(cf.Configuration().Servers) == 2
		})
	}
}

// FuzzGroupHeader reads arbitrary connection openings: a header is
// accepted only as groupHeader writes it, and names what it was written
// with.
func FuzzGroupHeader(f *testing.F) {
	f.Add(groupHeader(""))
	f.Add(groupHeader("acme"))
	f.Add([]byte("KNHKG1\xff"))
	f.Add([]byte("GET / HTTP/1.1\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		name, err := readGroupHeader(bufio.NewReader(bytes.NewReader(b)))
		if err != nil {
			return
		}
		if h := groupHeader(name); !bytes.HasPrefix(b, h) || len(name) > maxGroupName {
			t.Fatalf("%q read as group %q", b, name)
		}
	})
}

// TestGroupMuxRefusesStrangers checks that a connection without the
// header, or for a group the node does not serve, is closed.
func TestGroupMuxRefusesStrangers(t *testing.T) {
	m, err := ListenTCPGroupMux("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Transport("a", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Transport("a", nil); err == nil {
		t.Fatal("a second transport of one group")
	}
	for _, hdr := range [][]byte{[]byte("GET / HTTP/1.1\r\n\r\n"), groupHeader("zz")} {
		c, err := (&tcpLayer{}).Dial(raft.ServerAddress(m.Addr().String()), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(hdr)
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Fatalf("%q: the connection stayed open", hdr)
		}
		c.Close()
	}
}

// TestTenantGroupsTLS runs the groups of two nodes over one mutual-TLS
// listener each: a tenant's case started on its leader reaches the
// other node's replica of that tenant only.
func TestTenantGroupsTLS(t *testing.T) {
	c := newGroupCluster(t)
	c.ca = newCA(t)
	n1 := c.start("n1", true)
	c.leader("")
	g := c.start("n2", false)
	if err := c.retry("", func(n *Node) error {
		return n.Join(ctx(t), Member{ID: "n2", Raft: g.mux.Addr().String(), API: "api-n2"}, n1.own.ProgramHash())
	}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b"} {
		waitFor(t, "two voters in group "+name, func() bool { return c.voters(name) == 2 })
	}
	if err := c.retry("a", func(n *Node) error { return n.Start(ctx(t), "tls1", "tls1", "W", []any{"t"}) }); err != nil {
		t.Fatal(err)
	}
	for _, gn := range []*groupNode{n1, g} {
		waitFor(t, "the case on "+gn.id, func() bool { _, _, ok := gn.groups["a"].FSM().Case("tls1"); return ok })
		if _, _, ok := gn.groups["b"].FSM().Case("tls1"); ok {
			t.Fatalf("tenant b's replica on %s holds a's case", gn.id)
		}
	}
}

// TestTenantGroupsRestart stops the founding node, which bootstrapped
// every group, and starts it again from its raft logs: it does not
// bootstrap again (its groups have state), rejoins each group with the
// cases committed while it was away, and the tenants go on.
func TestTenantGroupsRestart(t *testing.T) {
	c := newGroupCluster(t)
	c.disk = t.TempDir()
	n1 := c.start("n1", true)
	c.leader("")
	for _, id := range []string{"n2", "n3"} {
		g := c.start(id, false)
		if err := c.retry("", func(n *Node) error {
			return n.Join(ctx(t), Member{ID: id, Raft: g.mux.Addr().String(), API: "api-" + id}, n1.own.ProgramHash())
		}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"", "a", "b"} {
		waitFor(t, "three voters in group "+name, func() bool { return c.voters(name) == 3 })
	}
	if err := c.retry("a", func(n *Node) error { return n.Start(ctx(t), "before", "before", "W", []any{"x"}) }); err != nil {
		t.Fatal(err)
	}
	c.kill("n1")
	if err := c.retry("a", func(n *Node) error { return n.Start(ctx(t), "while", "while", "W", []any{"y"}) }); err != nil {
		t.Fatal(err)
	}
	g := c.start("n1", true) // the same flags as its first start
	for _, id := range []string{"before", "while"} {
		waitFor(t, "n1's replica of a to hold "+id, func() bool { _, _, ok := g.groups["a"].FSM().Case(id); return ok })
		if _, _, ok := g.groups["b"].FSM().Case(id); ok {
			t.Fatalf("n1's replica of b holds a's case %s", id)
		}
	}
	for _, name := range []string{"", "a", "b"} {
		waitFor(t, "three voters in group "+name+" after the restart", func() bool { return c.voters(name) == 3 })
	}
	if err := c.retry("b", func(n *Node) error { return n.Start(ctx(t), "after", "after", "W", []any{"z"}) }); err != nil {
		t.Fatal(err)
	}
}
