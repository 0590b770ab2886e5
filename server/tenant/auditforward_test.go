// This file tests where a forwarded call's audit record says it came
// from, on three raft nodes in one process whose fronts audit into one
// chain: a call a follower forwards to the leader of its tenant's group
// is recorded with its client's address, which the follower vouched
// for; a client that sets the forwarding headers itself is recorded
// with its own connection's address, through every node.

package tenant

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/sign"
	"github.com/knhk/knhk/server"
	"github.com/knhk/knhk/server/auth"
)

// memChain is the cluster's audit chain of an in-process cluster: every
// node's front appends to it.
type memChain struct {
	mu   sync.Mutex
	recs []audit.Record
	reqs map[string]bool
}

func (c *memChain) records() []audit.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]audit.Record(nil), c.recs...)
}

// memNode is one node's side of a memChain (a ClusterAudit): the
// records of its calls ride with the real runtime/cluster rider, so a
// follower's forwarded call is the leader's to record.
type memNode struct {
	c   *memChain
	own *cluster.Node
}

func (n memNode) Node() string { return n.own.ID() }
func (n memNode) Append(ctx context.Context, reqID string, rec audit.Record) error {
	return n.Propose(ctx, reqID, rec)
}
func (n memNode) Propose(_ context.Context, reqID string, rec audit.Record) error {
	n.c.mu.Lock()
	defer n.c.mu.Unlock()
	if !n.c.reqs[reqID] {
		n.c.reqs[reqID] = true
		n.c.recs = append(n.c.recs, rec)
	}
	return nil
}
func (n memNode) Chain() ([]audit.Record, uint64) { return n.c.records(), 0 }
func (n memNode) Ride(ctx context.Context, build func() audit.Record, intent func(context.Context, audit.Record) error) (context.Context, AuditRide) {
	r := cluster.NewAuditRider(n.own, build, intent)
	return cluster.WithAudit(ctx, r), r
}
func (n memNode) TreeKey() (*sign.PrivateKey, error) { return fakeTreeKey() }
func (n memNode) Cosign(context.Context, audit.TreeHead) ([]audit.TreeHead, []*sign.PublicKey, error) {
	return nil, nil, errors.New("no cosigning in process")
}

// audited is cn's front audited into f's chain, with a log of its own.
func (f *clusterFixture) audited(cn *clusterNode) http.Handler {
	log, err := audit.Open(f.t.TempDir())
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { log.Close() })
	return cn.host.AuditedCluster(log, memNode{c: f.chain, own: cn.own})
}

// addrClient is an HTTP client that notes the local address of each
// connection it opens: the address a server sees it call from.
type addrClient struct {
	*http.Client
	mu    sync.Mutex
	addrs map[string]bool
}

func newAddrClient() *addrClient {
	c := &addrClient{addrs: map[string]bool{}}
	t := http.DefaultTransport.(*http.Transport).Clone()
	d := &net.Dialer{}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := d.DialContext(ctx, network, addr)
		if err == nil {
			c.mu.Lock()
			c.addrs[conn.LocalAddr().String()] = true
			c.mu.Unlock()
		}
		return conn, err
	}
	c.Client = &http.Client{Transport: t}
	return c
}

func (c *addrClient) from(addr string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addrs[addr]
}

// start starts a case of acme's at url with tok and the headers hdr.
func (c *addrClient) start(t *testing.T, url, tok string, hdr map[string]string) int {
	req, _ := http.NewRequest("POST", url+auth.ServicePath+"StartCase", strings.NewReader(`{"workflow":"Base"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestClusterAuditForwardedFor(t *testing.T) {
	chain := &memChain{reqs: map[string]bool{}}
	f := newClusterFixtureWith(t, chain)
	bySubject := func(sub string) []audit.Record {
		var out []audit.Record
		for _, r := range chain.records() {
			if r.Subject == sub && strings.HasSuffix(r.Action, "/StartCase") {
				out = append(out, r)
			}
		}
		return out
	}

	// A genuine forward: a start through a follower of acme's group is
	// recorded by the leader with the client's own address.
	genuine := newAddrClient()
	gTok := f.priv(auth.Principal{Subject: "genuine", Tenant: "acme", Role: auth.RoleAdmin})
	waitCond(t, "a start through a follower", func() bool {
		return genuine.start(t, f.follower("acme"), gTok, nil) == http.StatusOK
	})
	waitCond(t, "the genuine start's records", func() bool {
		for _, r := range bySubject("genuine") {
			if r.Result == audit.ResultOK && strings.Contains(r.Detail, "forwarded by node ") {
				return true
			}
		}
		return false
	})
	for _, r := range bySubject("genuine") {
		if strings.Contains(r.Detail, "forwarded by node ") && (!genuine.from(r.Remote) || strings.Contains(r.Detail, "unvouched")) {
			t.Fatalf("a forwarded start's record is not from its client %v: %+v", genuine.addrs, r)
		}
	}

	// A client that sets both headers itself, through every node: each
	// record is from the client's own connection, and says the claim
	// was not vouched for.
	forger := newAddrClient()
	fTok := f.priv(auth.Principal{Subject: "forger", Tenant: "acme", Role: auth.RoleAdmin})
	const claimed = "203.0.113.9:7"
	hdr := map[string]string{server.ForwardedByHeader: "n2", server.ForwardedForHeader: claimed}
	f.mu.Lock()
	var urls []string
	for _, cn := range f.nodes {
		urls = append(urls, cn.url)
	}
	f.mu.Unlock()
	ok := false
	waitCond(t, "a forged start on the leader of acme's group", func() bool {
		for _, u := range urls {
			ok = forger.start(t, u, fTok, hdr) == http.StatusOK || ok
		}
		return ok
	})
	waitCond(t, "the forged starts' records", func() bool {
		n := 0
		for _, r := range bySubject("forger") {
			if r.Result == audit.ResultOK {
				n++
			}
		}
		return n > 0 && len(bySubject("forger")) >= len(urls)
	})
	for _, r := range bySubject("forger") {
		if r.Remote == claimed || !forger.from(r.Remote) || !strings.Contains(r.Detail, "unvouched forwarding claim") || !strings.Contains(r.Detail, `for "`+claimed+`"`) {
			t.Fatalf("a forged start's record is not from the forger's connection %v: %+v", forger.addrs, r)
		}
	}
}

// TestAuditedForwardedFor: the front without a cluster's chain
// (Audited, a single server's) believes the forwarding headers on the
// same terms: a vouched call is recorded with
// the client the node vouched for, a forged one with its own
// connection.
func TestAuditedForwardedFor(t *testing.T) {
	f := newFixtureWith(t, nil, func(o *Options) { o.NodeToken = "static-token" })
	log, err := audit.Open(f.data)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(f.host.Audited(log))
	t.Cleanup(func() { ts.Close(); log.Close() })
	tok := f.priv(auth.Principal{Subject: "alice", Tenant: "acme", Role: auth.RoleAdmin})
	forged := connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			req.Header().Set(server.ForwardedByHeader, "n2")
			req.Header().Set(server.ForwardedForHeader, "203.0.113.9:7")
			return next(ctx, req)
		}
	})
	for _, ic := range []connect.Interceptor{vouchInterceptor("static-token", "n2", "10.1.2.3:4"), forged} {
		c := knhkv1connect.NewKnhkServiceClient(http.DefaultClient, ts.URL, connect.WithInterceptors(bearerInterceptor(tok), ic))
		if _, err := c.ListCases(context.Background(), connect.NewRequest(&knhkv1.ListCasesRequest{})); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := audit.ReadAll(f.data)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		if strings.HasSuffix(r.Action, "/ListCases") {
			got = append(got, r.Remote+" "+r.Detail)
		}
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], "10.1.2.3:4 forwarded by node n2 (connection from 127.0.0.1:") ||
		!strings.HasPrefix(got[1], "127.0.0.1:") || !strings.Contains(got[1], `unvouched forwarding claim by "n2" for "203.0.113.9:7"`) {
		t.Fatalf("the records' remote and detail:\n%s", strings.Join(got, "\n"))
	}
}
