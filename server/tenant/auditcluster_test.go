package tenant

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/runtime/sign"
	"github.com/knhk/knhk/server"
	"github.com/knhk/knhk/server/auth"
)

// fakeChain is a ClusterAudit that chains what it is given; its first
// Append fails, as one during a leader change would.
type fakeChain struct {
	mu       sync.Mutex
	recs     []audit.Record
	reqs     map[string]bool
	failed   bool
	proposed int
}

func (c *fakeChain) Node() string { return "n9" }

func (c *fakeChain) Append(ctx context.Context, reqID string, rec audit.Record) error {
	c.mu.Lock()
	if !c.failed {
		c.failed = true
		c.mu.Unlock()
		return errors.New("no leader")
	}
	c.mu.Unlock()
	return c.chain(reqID, rec)
}

func (c *fakeChain) Propose(ctx context.Context, reqID string, rec audit.Record) error {
	c.mu.Lock()
	c.proposed++
	c.mu.Unlock()
	return c.chain(reqID, rec)
}

func (c *fakeChain) chain(reqID string, rec audit.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reqs[reqID] {
		return nil
	}
	c.reqs[reqID] = true
	rec.Seq = uint64(len(c.recs))
	if n := len(c.recs); n > 0 {
		rec.Prev = c.recs[n-1].Hash
	}
	rec.Hash = rec.ComputeHash()
	c.recs = append(c.recs, rec)
	return nil
}

// noRide is a fakeChain's ride: the fake proposes no writes, so a
// record never rides.
type noRide struct{}

func (noRide) Chained() bool   { return false }
func (noRide) Intended() bool  { return false }
func (noRide) Forwarded() bool { return false }

func (c *fakeChain) Ride(ctx context.Context, _ func() audit.Record, _ func(context.Context, audit.Record) error) (context.Context, AuditRide) {
	return ctx, noRide{}
}

var fakeTreeKey = sync.OnceValues(func() (*sign.PrivateKey, error) { return sign.Generate(sign.MLDSA65Ed25519) })

func (c *fakeChain) TreeKey() (*sign.PrivateKey, error) { return fakeTreeKey() }

func (c *fakeChain) Cosign(context.Context, audit.TreeHead) ([]audit.TreeHead, []*sign.PublicKey, error) {
	return nil, nil, nil
}

func (c *fakeChain) Chain() ([]audit.Record, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]audit.Record(nil), c.recs...), uint64(len(c.recs))
}

// TestAuditCluster: a write goes into the cluster's chain (retried past
// a failure), a read into the node's log saying so, a write forwarded
// to this node (the leader) into the chain, saying by whom; the append route takes the nodes' token
// only; the export is the chain's.
func TestAuditCluster(t *testing.T) {
	f := newFixtureWith(t, nil, func(o *Options) { o.NodeToken = "static-token" })
	log, err := audit.Open(f.data)
	if err != nil {
		t.Fatal(err)
	}
	fc := &fakeChain{reqs: map[string]bool{}}
	ts := httptest.NewServer(f.host.AuditedCluster(log, fc))
	t.Cleanup(func() { ts.Close(); log.Close() })
	ctx := context.Background()
	admin := f.priv(auth.Principal{Subject: "alice", Tenant: "acme", Role: auth.RoleAdmin})
	c := knhkv1connect.NewKnhkServiceClient(http.DefaultClient, ts.URL, connect.WithInterceptors(bearerInterceptor(admin)))
	if _, err := c.Deploy(ctx, connect.NewRequest(&knhkv1.DeployRequest{Name: "two.knhk", Source: testSrc})); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListCases(ctx, connect.NewRequest(&knhkv1.ListCasesRequest{})); err != nil {
		t.Fatal(err)
	}
	fwd := knhkv1connect.NewKnhkServiceClient(http.DefaultClient, ts.URL, connect.WithInterceptors(bearerInterceptor(admin), vouchInterceptor("static-token", "n1", "10.1.2.3:4")))
	if _, err := fwd.StartCase(ctx, connect.NewRequest(&knhkv1.StartCaseRequest{Workflow: "Inc", InputJson: "1"})); err != nil {
		t.Fatal(err)
	}
	// A call refused before admission stays the node's.
	bad := knhkv1connect.NewKnhkServiceClient(http.DefaultClient, ts.URL, connect.WithInterceptors(bearerInterceptor("not-a-token")))
	if _, err := bad.StartCase(ctx, connect.NewRequest(&knhkv1.StartCaseRequest{Workflow: "Inc", InputJson: "1"})); connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Fatalf("a bad token's start: %v", err)
	}
	recs, _ := fc.Chain()
	if len(recs) != 2 || !strings.HasSuffix(recs[0].Action, "/Deploy") || recs[0].Tenant != "acme" || recs[0].Subject != "alice" || recs[0].Result != audit.ResultOK || recs[0].Time == "" ||
		!strings.HasSuffix(recs[1].Action, "/StartCase") || recs[1].Remote != "10.1.2.3:4" || !strings.HasPrefix(recs[1].Detail, "forwarded by node n1 (connection from 127.0.0.1:") {
		t.Fatalf("the cluster's chain: %+v", recs)
	}
	// The refusal's record joins the log's next commit (auditrefused.go).
	var all string
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(all, "node-local: refused by node n9 before admission") {
		if time.Now().After(deadline) {
			t.Fatalf("no node-local record of the refused start:\n%s", all)
		}
		time.Sleep(10 * time.Millisecond)
		local, err := audit.ReadAll(f.data)
		if err != nil {
			t.Fatal(err)
		}
		var details []string
		for _, r := range local {
			details = append(details, r.Action+": "+r.Detail)
		}
		all = strings.Join(details, "\n")
	}
	if !strings.Contains(all, "ListCases: node-local: answered by node n9") || strings.Contains(all, "forwarded") || strings.Contains(all, "Deploy") {
		t.Fatalf("the node's log:\n%s", all)
	}

	post := func(token, method, body string) int {
		req, _ := http.NewRequest(method, ts.URL+ClusterAuditPath, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	good := `{"req":"r1","record":{"seq":0,"time":"2026-01-01T00:00:00Z","tenant":"default","subject":"static","role":"admin","credential":"static","action":"knhk tenant create","remote":"x","result":"ok","prev":"` + strings.Repeat("0", 64) + `","hash":"` + strings.Repeat("0", 64) + `"}}`
	for _, tc := range []struct {
		token, method, body string
		want                int
	}{
		{"", "POST", good, http.StatusUnauthorized},
		{admin, "POST", good, http.StatusUnauthorized}, // a tenant admin is no node
		{"static-token", "GET", "", http.StatusBadRequest},
		{"static-token", "POST", `{"req":"r1","record":{},"extra":1}`, http.StatusBadRequest},
		{"static-token", "POST", `{"record":{}}`, http.StatusBadRequest},
		{"static-token", "POST", good, http.StatusNoContent},
	} {
		if got := post(tc.token, tc.method, tc.body); got != tc.want {
			t.Errorf("%s %s with %q: %d, want %d", tc.method, tc.body, tc.token, got, tc.want)
		}
	}
	if fc.proposed != 1 {
		t.Fatalf("%d proposed, want 1", fc.proposed)
	}
	// The append route's two refusals (no nodes' token) are audited in
	// the node's log like any refusal before admission; its calls with
	// the nodes' token are not (the record they carry is the audit).
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		local, err := audit.ReadAll(f.data)
		if err != nil {
			t.Fatal(err)
		}
		var refused []audit.Record
		for _, r := range local {
			if r.Action == "POST "+ClusterAuditPath {
				refused = append(refused, *r)
			}
		}
		if len(refused) == 2 {
			for _, r := range refused {
				if r.Result != connect.CodeUnauthenticated.String() || !strings.Contains(r.Detail, "node-local: refused by node n9 before admission") {
					t.Fatalf("the append route's refusal: %+v", r)
				}
			}
			break
		}
		if len(refused) > 2 || time.Now().After(deadline) {
			t.Fatalf("the append route's refusals: %d records, want 2: %+v", len(refused), refused)
		}
	}

	code, body := exportAs(t, ts.URL, "static-token", "json")
	ev, err := audit.DecodeEvidence([]byte(body))
	if code != http.StatusOK || err != nil {
		t.Fatalf("export: %d %v %s", code, err, body)
	}
	if len(ev.Records) != 3 || ev.Found.Problem != nil || !strings.Contains(ev.Scope, ClusterChainScope) || ev.Records[2].Record.Action != "knhk tenant create" {
		t.Fatalf("the export: %+v", ev)
	}
	// Anchored: the chain's tree head, signed with the node's key.
	k, _ := fc.TreeKey()
	if rep := audit.Check(ev, audit.VerifyOptions{Trust: sign.NewTrustSet(k.Public()), Anchored: true}); ev.Tree == nil || ev.Tree.Head.Node != "n9" || rep.Problem != nil || rep.TreeSize != 3 || rep.Key != k.ID() {
		t.Fatalf("the export's tree: %+v", rep)
	}
	req, _ := http.NewRequest("GET", ts.URL+AuditExportPath+"?scope="+NodeLocalScope, nil)
	req.Header.Set("Authorization", "Bearer static-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	own, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(own), "node-local: answered by node n9") {
		t.Fatalf("the node's own export: %d %s", resp.StatusCode, own)
	}
	viewer := f.priv(auth.Principal{Subject: "victor", Tenant: "acme", Role: auth.RoleViewer})
	if code, body := exportAs(t, ts.URL, viewer, "json"); code != http.StatusForbidden || !strings.Contains(body, "needs admin") {
		t.Fatalf("a viewer's export: %d %s", code, body)
	}
}

// vouchInterceptor marks every unary call as node by forwards it for
// client, vouched for with the nodes' token, as a follower does.
func vouchInterceptor(token, by, client string) connect.Interceptor {
	return connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			server.VouchForwarded(req.Header(), server.ForwardKey(token), by, client, http.MethodPost, req.Spec().Procedure, time.Now())
			return next(ctx, req)
		}
	})
}

// TestAuditedRouteRefusedCheap: the cluster's tenant administration,
// audited by AuditedRoute, has no byte of a call's body read when the
// call lacks the nodes' token (its route refuses it unread), and the
// refusal is still recorded node-local; a call with the token goes into
// the cluster's chain naming its op and tenant.
func TestAuditedRouteRefusedCheap(t *testing.T) {
	f := newFixtureWith(t, nil, func(o *Options) { o.NodeToken = "static-token" })
	log, err := audit.Open(f.data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	fc := &fakeChain{reqs: map[string]bool{}}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer static-token" {
			http.Error(w, "needs the cluster's token", http.StatusUnauthorized)
			return
		}
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	})
	front := f.host.AuditedRoute(log, fc, next)
	call := func(token string, n *atomic.Int64) int {
		req := httptest.NewRequest("POST", "/cluster/v1/tenants", countingBody{strings.NewReader(`{"op":"create","id":"acme"}`), n})
		req.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		front.ServeHTTP(w, req)
		return w.Code
	}
	var read atomic.Int64
	if code := call("not-the-token", &read); code != http.StatusUnauthorized || read.Load() != 0 {
		t.Fatalf("a call without the nodes' token: %d, %d body bytes read", code, read.Load())
	}
	if code := call("static-token", &read); code != http.StatusNoContent || read.Load() == 0 {
		t.Fatalf("a call with the nodes' token: %d, %d body bytes read", code, read.Load())
	}
	recs, _ := fc.Chain()
	if len(recs) != 1 || recs[0].Action != "knhk tenant create" || strings.Join(recs[0].Targets, ",") != "tenant=acme" || recs[0].Credential != audit.CredStatic {
		t.Fatalf("the cluster's chain: %+v", recs)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		local, err := audit.ReadAll(f.data)
		if err != nil {
			t.Fatal(err)
		}
		if len(local) == 1 {
			if r := local[0]; r.Action != "POST /cluster/v1/tenants" || len(r.Targets) != 0 || r.Result != "http_401" || !strings.Contains(r.Detail, "refused by node n9 before admission") {
				t.Fatalf("the refusal's record: %+v", r)
			}
			break
		}
		if len(local) > 1 || time.Now().After(deadline) {
			t.Fatalf("the node's log: %+v", local)
		}
	}
}

// TestClusterCosign: a node cosigns the head of a tree its replica
// holds, for the nodes' token only, and refuses another tree or one
// longer than its chain.
func TestClusterCosign(t *testing.T) {
	f := newFixtureWith(t, nil, func(o *Options) { o.NodeToken = "static-token" })
	log, err := audit.Open(f.data)
	if err != nil {
		t.Fatal(err)
	}
	fc := &fakeChain{reqs: map[string]bool{}, failed: true}
	ts := httptest.NewServer(f.host.AuditedCluster(log, fc))
	t.Cleanup(func() { ts.Close(); log.Close() })
	for _, a := range []string{"a", "b", "c"} {
		fc.Propose(context.Background(), a, audit.Record{Action: a, Result: audit.ResultOK, Time: "2026-01-01T00:00:00Z"})
	}
	recs, _ := fc.Chain()
	cosign := func(token string, size uint64, root audit.Digest) (int, []byte) {
		b, _ := json.Marshal(ClusterCosignRequest{Size: size, Root: root})
		req, _ := http.NewRequest("POST", ts.URL+ClusterTreeHeadPath, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	want := audit.TreeHead{Size: 2, Root: audit.TreeRoot(recs[:2])}
	code, body := cosign("static-token", 2, want.Root)
	h, k, err := CheckCosigned(body, want)
	if code != http.StatusOK || err != nil || h.Node != "n9" || k.ID() != h.Key {
		t.Fatalf("cosign: %d %v %s", code, err, body)
	}
	if _, _, err := CheckCosigned(body, audit.TreeHead{Size: 3, Root: audit.TreeRoot(recs)}); err == nil {
		t.Fatal("a head of another tree was taken")
	}
	if code, body := cosign("static-token", 2, audit.TreeRoot(recs[1:])); code == http.StatusOK || !strings.Contains(string(body), "has root") {
		t.Fatalf("another tree: %d %s", code, body)
	}
	if code, body := cosign("static-token", 4, want.Root); code == http.StatusOK || !strings.Contains(string(body), "has applied 3 records of the chain, not 4") {
		t.Fatalf("a longer tree: %d %s", code, body)
	}
	if code, _ := cosign("not-the-token", 2, want.Root); code != http.StatusUnauthorized {
		t.Fatalf("without the nodes' token: %d", code)
	}
}
