package cluster

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// TestTenancyFSM applies tenancy changes to one FSM: a change from an
// older revision is refused (no lost update), a retried request answers
// the first outcome, private keys and escaping paths are refused, a
// founder is written once, and a snapshot carries the tenancy.
func TestTenancyFSM(t *testing.T) {
	f, h := newTestFSM(t)
	create := &Command{Op: OpTenant, ReqID: "r1", Program: h, Tenancy: &TenancyChange{
		Files: map[string][]byte{"tenants.json": []byte(`{"v":1}`), "acme/license.lic": []byte("L")}, Founders: map[string]string{"acme": "n2"}}}
	if r := f.Apply(entry(t, 3, create)).(*Result); r.Err != nil || r.Dup {
		t.Fatalf("create: %+v", r)
	}
	if got := f.Tenancy(); got.Rev != 3 || string(got.Files["tenants.json"]) != `{"v":1}` || f.Founder("acme") != "n2" {
		t.Fatalf("tenancy after create: %+v", got)
	}
	// The same request again: its first outcome, nothing applied.
	if r := f.Apply(entry(t, 4, create)).(*Result); r.Err != nil || !r.Dup || r.Index != 3 {
		t.Fatalf("retried create: %+v", r)
	}
	if f.TenancyRev() != 3 {
		t.Fatalf("a retried change moved the revision to %d", f.TenancyRev())
	}
	// A change computed from revision 0 lost the race: refused.
	stale := &Command{Op: OpTenant, Program: h, Tenancy: &TenancyChange{Base: 0, Files: map[string][]byte{"tenants.json": []byte("lost")}}}
	if r := f.Apply(entry(t, 5, stale)).(*Result); !errors.Is(r.Err, ErrConflict) || !strings.Contains(r.Err.Error(), "revision 3") {
		t.Fatalf("stale change: %+v", r)
	}
	for _, p := range []string{"issuer.key", "../x", "/etc/passwd", "a//b", `a\b`} {
		c := &Command{Op: OpTenant, Program: h, Tenancy: &TenancyChange{Base: 3, Files: map[string][]byte{p: []byte("x")}}}
		if r := f.Apply(entry(t, 6, c)).(*Result); r.Err == nil {
			t.Fatalf("file %q was taken", p)
		}
	}
	next := &Command{Op: OpTenant, Program: h, Tenancy: &TenancyChange{Base: 3, Remove: []string{"acme/license.lic"},
		Files: map[string][]byte{"tenants.json": []byte(`{"v":2}`)}, Founders: map[string]string{"acme": "n3"}}}
	if r := f.Apply(entry(t, 7, next)).(*Result); r.Err != nil {
		t.Fatalf("next: %+v", r)
	}
	got := f.Tenancy()
	if got.Rev != 7 || string(got.Files["tenants.json"]) != `{"v":2}` || got.Files["acme/license.lic"] != nil || got.Founders["acme"] != "n2" {
		t.Fatalf("tenancy after the second change: %+v", got)
	}
	// A snapshot carries it to a new replica.
	s, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	var snap sink
	if err := s.Persist(&snap); err != nil {
		t.Fatal(err)
	}
	g, _ := newTestFSM(t)
	if err := g.Restore(io.NopCloser(&snap.Buffer)); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g.Tenancy(), got) {
		t.Fatalf("restored tenancy %+v, want %+v", g.Tenancy(), got)
	}
}

// TestTenancyReplicated changes the tenancy of a three-node cluster:
// every node holds the same tenancy at the same index, a follower
// refuses to propose (naming the leader, whom its API forwards to), the
// founding node's death leaves the others administering tenants, and a
// node that joins later gets the tenancy from a snapshot.
func TestTenancyReplicated(t *testing.T) {
	c := newTestCluster(t, compile(t, testSource))
	short := func(cfg *Config) { cfg.Timing.SnapshotThreshold = 1 << 20; cfg.Timing.TrailingLogs = 1 }
	join := func(id string) *Node {
		n := c.add(id, nil, short)
		if err := c.leader().Join(ctx(t), Member{ID: id, Raft: id, API: "api-" + id}, n.ProgramHash()); err != nil {
			t.Fatal(err)
		}
		return n
	}
	c.add("n1", nil, short)
	join("n2")
	join("n3")
	waitFor(t, "three voters", func() bool { return len(c.voters()) == 3 })
	l := c.leader()
	var follower *Node
	for _, id := range []string{"n1", "n2", "n3"} {
		if n := c.node(id); n != l {
			follower = n
		}
	}
	change := func(n *Node, files map[string]string, founders map[string]string) (uint64, error) {
		ch := &TenancyChange{Base: n.FSM().TenancyRev(), Files: map[string][]byte{}, Founders: founders}
		for p, b := range files {
			ch.Files[p] = []byte(b)
		}
		return n.ChangeTenancy(ctx(t), "", ch)
	}
	if _, err := change(follower, map[string]string{"tenants.json": "a"}, nil); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("a follower's change: %v", err)
	}
	rev, err := change(l, map[string]string{"tenants.json": "acme", "issuers.pub": "K"}, map[string]string{"acme": l.ID()})
	if err != nil {
		t.Fatal(err)
	}
	same := func(rev uint64) {
		t.Helper()
		waitFor(t, "every node at the tenancy's revision", func() bool {
			for _, id := range []string{"n1", "n2", "n3", "n4"} {
				if n := c.node(id); n != nil && n.FSM().TenancyRev() != rev {
					return false
				}
			}
			return true
		})
		want := c.leader().FSM().Tenancy()
		for _, id := range []string{"n1", "n2", "n3", "n4"} {
			if n := c.node(id); n != nil && !reflect.DeepEqual(n.FSM().Tenancy(), want) {
				t.Fatalf("%s holds %+v, the leader %+v", id, n.FSM().Tenancy(), want)
			}
		}
	}
	same(rev)
	// The founding node dies; the others still change the tenancy.
	c.kill("n1")
	l = c.leader()
	rev, err = change(l, map[string]string{"tenants.json": "acme beta"}, map[string]string{"beta": l.ID()})
	if err != nil {
		t.Fatalf("a change without the founding node: %v", err)
	}
	for i := 0; i < 6; i++ {
		if rev, err = change(l, map[string]string{"n": strings.Repeat("x", i)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.r.Snapshot().Error(); err != nil {
		t.Fatal(err)
	}
	n4 := join("n4")
	same(rev)
	if n4.FSM().Restores() == 0 {
		t.Fatal("n4 caught up without the snapshot")
	}
	if got := c.node("n4").FSM().Tenancy(); string(got.Files["tenants.json"]) != "acme beta" || got.Founders["beta"] != l.ID() || got.Founders["acme"] == "" {
		t.Fatalf("the joined node's tenancy: %+v", got)
	}
}
