// This file tests tenants on a raft cluster (Options.OpenGroup): three
// nodes in one process, each serving tenants acme and beta as raft
// groups of their own on the nodes' shared raft listeners. Every API
// method called on every node with beta's credentials and acme's ids
// answers "not found" or nothing, a follower forwards acme's calls to
// its group's leader, and after the leader of acme's group is killed
// acme's cases go on.

package tenant

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/hashicorp/raft"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/queue"
	"github.com/knhk/knhk/runtime/worker"
	"github.com/knhk/knhk/server"
	"github.com/knhk/knhk/server/auth"
	"github.com/knhk/knhk/server/console"
)

const baseSrc = `package base

workflow Base() -> int {
  return 0
}
`

// memberProber reads a member's applied index of one group in process.
type memberProber struct {
	mu    *sync.Mutex
	nodes map[string]*cluster.Node
}

func (p memberProber) Applied(_ context.Context, m cluster.Member) (uint64, error) {
	p.mu.Lock()
	n := p.nodes[m.ID]
	p.mu.Unlock()
	if n == nil {
		return 0, os.ErrNotExist
	}
	return n.Raft().AppliedIndex(), nil
}

// testGroup is a tenant's group on one node.
type testGroup struct {
	n      *cluster.Node
	api    *server.ClusterAPI
	cancel context.CancelFunc
}

func (g *testGroup) ServeHTTP(w http.ResponseWriter, r *http.Request) { g.api.ServeHTTP(w, r) }
func (g *testGroup) Running() int                                     { return len(g.n.FSM().Cases(true)) }
func (g *testGroup) Close(context.Context) error {
	g.cancel()
	return g.n.Close()
}

type clusterNode struct {
	id   string
	url  string
	ts   *httptest.Server
	mux  *cluster.GroupMux
	own  *cluster.Node
	host *Host
}

type clusterFixture struct {
	t     testing.TB
	data  string
	prog  *ir.Program
	priv  func(auth.Principal) string
	mu    sync.Mutex
	nodes map[string]*clusterNode
	// groups holds every group's node by group ("" for the cluster's
	// own) and node id, for the probers.
	groups map[string]map[string]*cluster.Node
	// chain, when not nil, is the cluster's audit chain: each node's
	// front audits into it (auditforward_test.go).
	chain *memChain
}

var clusterTiming = cluster.Timing{Heartbeat: clusterScale * 100 * time.Millisecond, Election: clusterScale * 100 * time.Millisecond,
	Lease: clusterScale * 100 * time.Millisecond, Commit: 5 * time.Millisecond, Tick: 20 * time.Millisecond}

func (f *clusterFixture) prober(group string) memberProber {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.groups[group] == nil {
		f.groups[group] = map[string]*cluster.Node{}
	}
	return memberProber{mu: &f.mu, nodes: f.groups[group]}
}

func (f *clusterFixture) node(id, group string, founder bool, tr raft.Transport, api string, admit func(string) (func(), error)) *cluster.Node {
	f.t.Helper()
	q := cluster.NewQueue(queue.Options{Lease: time.Minute})
	w := func(p *ir.Program) worker.Options { return worker.Options{Queue: q} }
	n, err := cluster.NewNode(cluster.Config{ID: id, API: api, Bootstrap: founder, Program: f.prog, Eval: &host.Evaluator{},
		Worker: worker.New(f.prog, w(f.prog)), WorkerFor: func(p *ir.Program) engine.Worker { return worker.New(p, w(p)) }, Queue: q,
		Compile: server.ClusterCompile, Transport: tr, Timing: clusterTiming, Prober: f.prober(group), LogOutput: io.Discard, AdmitStart: admit})
	if err != nil {
		f.t.Fatal(err)
	}
	f.mu.Lock()
	f.groups[group][id] = n
	f.mu.Unlock()
	return n
}

// start starts node id: its raft listener, the cluster's own group, and
// its tenant front over httptest.
func (f *clusterFixture) start(id string, founder bool) *clusterNode {
	f.t.Helper()
	mux, err := cluster.ListenTCPGroupMux("127.0.0.1:0", "")
	if err != nil {
		f.t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(nil)
	cn := &clusterNode{id: id, url: "http://" + ts.Listener.Addr().String(), ts: ts, mux: mux}
	tr, err := mux.Transport("", io.Discard)
	if err != nil {
		f.t.Fatal(err)
	}
	cn.own = f.node(id, "", founder, tr, cn.url, nil)
	pem, _ := os.ReadFile(PubPath(f.data))
	keys, err := auth.ParseKeys("issuer.pub", pem)
	if err != nil {
		f.t.Fatal(err)
	}
	h, err := NewHost(Options{
		Data:      f.data,
		Verifier:  &auth.Verifier{Keys: keys, Issuer: Issuer, Static: "static-token"},
		NodeToken: "static-token",
		OpenGroup: func(tid, _ string, admit func(string) (func(), error)) (Group, error) {
			tr, err := mux.Transport(tid, io.Discard)
			if err != nil {
				return nil, err
			}
			n := f.node(id, tid, founder, tr, cn.url, admit)
			ctx, cancel := context.WithCancel(context.Background())
			go n.Follow(ctx, cn.own)
			api := server.NewClusterAPI(n, f.prog)
			// As knhk serve --node --tenants: the front checked the
			// caller; a forwarded call is vouched for with the nodes' token.
			api.Secure(server.ClusterSecurity{VouchToken: "static-token"})
			console.Mount(api.ConsoleMux(), api)
			return &testGroup{n: n, api: api, cancel: cancel}, nil
		},
		Reload: 20 * time.Millisecond,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	cn.host = h
	own := server.NewClusterAPI(cn.own, f.prog)
	own.Secure(server.ClusterSecurity{Token: "static-token"})
	h.SetDefault(own)
	ts.Config.Handler = h
	if f.chain != nil {
		ts.Config.Handler = f.audited(cn)
	}
	ts.Config.Protocols = new(http.Protocols) // WorkTasks streams need HTTP/2
	ts.Config.Protocols.SetHTTP1(true)
	ts.Config.Protocols.SetUnencryptedHTTP2(true)
	ts.Start()
	f.mu.Lock()
	f.nodes[id] = cn
	f.mu.Unlock()
	return cn
}

func (f *clusterFixture) kill(id string) {
	f.mu.Lock()
	cn := f.nodes[id]
	delete(f.nodes, id)
	for _, g := range f.groups {
		delete(g, id)
	}
	f.mu.Unlock()
	if cn == nil {
		return
	}
	cn.ts.CloseClientConnections()
	cn.ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cn.host.Close(ctx)
	cn.own.Close()
	cn.mux.Close()
}

// leader waits for the node that leads group ("" for the cluster's own).
func (f *clusterFixture) leader(group string) *cluster.Node {
	f.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		f.mu.Lock()
		for _, n := range f.groups[group] {
			if n.IsLeader() {
				f.mu.Unlock()
				return n
			}
		}
		f.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	f.t.Fatalf("no leader of group %q", group)
	return nil
}

func waitCond(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func newClusterFixture(t testing.TB) *clusterFixture {
	return newClusterFixtureWith(t, nil)
}

// newClusterFixtureWith is newClusterFixture, its nodes audited into
// chain when it is not nil.
func newClusterFixtureWith(t testing.TB, chain *memChain) *clusterFixture {
	data := t.TempDir()
	reg, err := Load(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"acme", "beta"} {
		if _, err := reg.Create(id, Quota{}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := reg.Save(data); err != nil {
		t.Fatal(err)
	}
	priv, err := IssuerKey(data)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := server.ClusterCompile("base.knhk", []byte(baseSrc))
	if err != nil {
		t.Fatal(err)
	}
	f := &clusterFixture{t: t, data: data, prog: prog, nodes: map[string]*clusterNode{}, groups: map[string]map[string]*cluster.Node{}, chain: chain,
		priv: func(p auth.Principal) string {
			tok, err := auth.Issue(priv, Issuer, p, time.Hour, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}}
	t.Cleanup(func() {
		f.mu.Lock()
		var ids []string
		for id := range f.nodes {
			ids = append(ids, id)
		}
		f.mu.Unlock()
		for _, id := range ids {
			f.kill(id)
		}
	})
	n1 := f.start("n1", true)
	f.leader("")
	for _, id := range []string{"n2", "n3"} {
		cn := f.start(id, false)
		waitCond(t, id+" joining", func() bool {
			err := f.leader("").Join(context.Background(), cluster.Member{ID: id, Raft: cn.mux.Addr().String(), API: cn.url}, n1.own.ProgramHash())
			return err == nil
		})
	}
	for _, g := range []string{"", "acme", "beta"} {
		waitCond(t, "three voters in group "+g, func() bool {
			cf := f.leader(g).Raft().GetConfiguration()
			if cf.Error() != nil {
				return false
			}
			v := 0
			for _, s := range cf.Configuration().Servers {
				if s.Suffrage.String() == "Voter" {
					v++
				}
			}
			return v == 3
		})
	}
	return f
}

// clusterClient is a client of the node at url with token, which, as a
// client of a cluster should, retries a unary call answered unavailable
// (no leader known yet, leadership moving, an outcome not known) for up
// to 30 s: on a loaded machine a group's leadership can move while the
// test seeds, and unavailable is not an answer the test checks.
func clusterClient(url, token string) knhkv1connect.KnhkServiceClient {
	return knhkv1connect.NewKnhkServiceClient(h2cStreams{}, url, connect.WithInterceptors(retryUnavailable(50*time.Millisecond), bearerInterceptor(token)))
}

// retryUnavailable retries a unary call answered unavailable, pause
// apart, for up to 30 s, as a cluster's clients do.
func retryUnavailable(pause time.Duration) connect.Interceptor {
	return connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			deadline := time.Now().Add(30 * time.Second)
			for {
				res, err := next(ctx, req)
				if connect.CodeOf(err) != connect.CodeUnavailable || time.Now().After(deadline) {
					return res, err
				}
				time.Sleep(pause)
			}
		}
	})
}

// follower returns the url of a node that does not lead group.
func (f *clusterFixture) follower(group string) string {
	l := f.leader(group)
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, cn := range f.nodes {
		if id != l.ID() {
			return cn.url
		}
	}
	f.t.Fatal("no follower")
	return ""
}

func TestClusterCrossTenant(t *testing.T) {
	f := newClusterFixture(t)
	acmeTok := f.priv(auth.Principal{Subject: "a", Tenant: "acme", Role: auth.RoleAdmin})
	betaTok := f.priv(auth.Principal{Subject: "b", Tenant: "beta", Role: auth.RoleAdmin})
	// acme seeds through a follower of its group: the follower forwards.
	acme := clusterClient(f.follower("acme"), acmeTok)
	a := seed(t, acme)

	cs := calls(a)
	f.mu.Lock()
	var urls []string
	for _, cn := range f.nodes {
		urls = append(urls, cn.url)
	}
	f.mu.Unlock()
	for _, m := range methodNames(t) {
		call, ok := cs[m]
		if !ok {
			t.Errorf("no cross-tenant call for method %s", m)
			continue
		}
		for _, url := range urls {
			beta := clusterClient(url, betaTok)
			data, err := call(context.Background(), beta)
			if data {
				t.Errorf("%s on %s: beta got data of tenant acme", m, url)
			}
			if err != nil && connect.CodeOf(err) != connect.CodeNotFound {
				t.Errorf("%s on %s: beta got %v, want not_found", m, url, err)
			}
			if err == nil && !map[string]bool{"Deploy": true, "ListPrograms": true, "ListCases": true, "PollTask": true, "CompleteAndPollTasks": true, "WorkTasks": true}[m] {
				t.Errorf("%s on %s: beta succeeded with acme's ids", m, url)
			}
		}
	}
	// A tenant's admin may not change the cluster's members through its
	// group: membership is the cluster's.
	for _, req := range []*http.Request{
		httptest.NewRequest("POST", urls[0]+"/cluster/v1/members", strings.NewReader(`{"id":"evil","raft":"127.0.0.1:1"}`)),
		httptest.NewRequest("DELETE", urls[0]+"/cluster/v1/members/n2", nil),
	} {
		req.RequestURI = ""
		req.Header.Set("Authorization", "Bearer "+betaTok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "members") {
			t.Fatalf("%s %s as beta's admin: %d %s", req.Method, req.URL.Path, resp.StatusCode, body)
		}
	}

	// The console's pages on every node: beta's token does not find
	// acme's case; acme's viewer does.
	for _, url := range urls {
		for _, c := range []struct {
			tok  string
			want int
		}{{betaTok, 404}, {f.priv(auth.Principal{Subject: "v", Tenant: "acme", Role: auth.RoleViewer}), 200}} {
			req, _ := http.NewRequest("GET", url+"/console/api/case?id="+a.hold, nil)
			req.AddCookie(&http.Cookie{Name: "knhk-token", Value: c.tok})
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.want || c.want == 404 && strings.Contains(string(body), "Hold") {
				t.Errorf("console case on %s: %d %s, want %d", url, resp.StatusCode, body, c.want)
			}
		}
	}

	// The cluster's JSON routes take the roles of the methods they
	// match: a viewer reads, an operator starts, a viewer may not.
	viewer := f.priv(auth.Principal{Subject: "v", Tenant: "acme", Role: auth.RoleViewer})
	operator := f.priv(auth.Principal{Subject: "o", Tenant: "acme", Role: auth.RoleOperator})
	for _, c := range []struct {
		method, path, body, tok string
		want                    int
	}{
		{"GET", "/cluster/v1/cases", "", viewer, http.StatusOK},
		{"GET", "/cluster/v1/cases/" + a.hold, "", viewer, http.StatusOK},
		{"POST", "/cluster/v1/cases", `{"id":"by-viewer","workflow":"Inc","input":[1]}`, viewer, http.StatusForbidden},
		{"POST", "/cluster/v1/cases/" + a.hold + "/cancel", "", viewer, http.StatusForbidden},
		{"POST", "/cluster/v1/cases", `{"id":"by-operator","workflow":"Base"}`, operator, http.StatusOK},
		{"POST", "/cluster/v1/members", `{"id":"evil","raft":"127.0.0.1:1"}`, operator, http.StatusForbidden},
	} {
		req, _ := http.NewRequest(c.method, urls[0]+c.path, strings.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer "+c.tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s %s: %d %s, want %d", c.method, c.path, resp.StatusCode, body, c.want)
		}
	}

	// acme's cases are as they were; kill its group's leader, and they
	// go on under the new one.
	ctx := context.Background()
	g, err := acme.GetCase(ctx, connect.NewRequest(&knhkv1.GetCaseRequest{CaseId: a.hold}))
	if err != nil || g.Msg.Case.Status != "running" {
		t.Fatalf("acme's held case after beta's calls: %v %v", g, err)
	}
	// acme completes its own task: with the lease it holds, or, if its
	// group's leader changed meanwhile (a new leader hands the task out
	// again, at least once), with the lease of a new poll.
	id, tok := a.taskID, a.taskToken
	waitCond(t, "acme's task completed", func() bool {
		_, err := acme.CompleteTask(ctx, connect.NewRequest(&knhkv1.CompleteTaskRequest{Id: id, Token: tok, ResultJson: "7"}))
		if err == nil {
			return true
		}
		if c := connect.CodeOf(err); c != connect.CodeFailedPrecondition && c != connect.CodeUnavailable {
			t.Fatalf("acme completes its own task: %v", err)
		}
		if p, err := acme.PollTask(ctx, connect.NewRequest(&knhkv1.PollTaskRequest{Queue: "steps", Worker: "w", TimeoutMs: 1000})); err == nil && p.Msg.Task != nil {
			id, tok = p.Msg.Task.Id, p.Msg.Task.Token
		}
		return false
	})
	w, err := acme.WaitCase(ctx, connect.NewRequest(&knhkv1.WaitCaseRequest{CaseId: a.two, TimeoutMs: 20000}))
	if err != nil || w.Msg.Case.ResultJson != "7" {
		t.Fatalf("acme's case result: %v %v", w, err)
	}
	old := f.leader("acme").ID()
	f.kill(old)
	waitCond(t, "a new leader of acme", func() bool { return f.leader("acme").ID() != old })
	acme = clusterClient(f.follower("acme"), acmeTok)
	waitCond(t, "acme's signal through the new leader", func() bool {
		_, err := acme.SignalCase(ctx, connect.NewRequest(&knhkv1.SignalCaseRequest{CaseId: a.hold, Name: "Approve", PayloadJson: `{"by":"ann"}`}))
		return err == nil
	})
	w, err = acme.WaitCase(ctx, connect.NewRequest(&knhkv1.WaitCaseRequest{CaseId: a.hold, TimeoutMs: 20000}))
	if err != nil || w.Msg.Case.ResultJson != `"x by ann"` {
		t.Fatalf("acme's held case after the failover: %v %v", w, err)
	}
	betaAfter := clusterClient(f.follower("beta"), betaTok)
	if _, err := betaAfter.GetCase(ctx, connect.NewRequest(&knhkv1.GetCaseRequest{CaseId: a.hold})); connect.CodeOf(err) != connect.CodeNotFound {
		t.Fatalf("beta reads acme's case after the failover: %v", err)
	}
}

// TestClusterForwardedPrincipal checks the calls whose credential does
// not travel when a follower forwards them: a console session's write
// through a follower of the tenant's group reaches its leader as the
// session's principal. A principal header is believed only with the
// nodes' token: beside a tenant's own token, or alone, it is dropped.
func TestClusterForwardedPrincipal(t *testing.T) {
	f := newClusterFixture(t)
	acmeTok := f.priv(auth.Principal{Subject: "a", Tenant: "acme", Role: auth.RoleAdmin})
	betaTok := f.priv(auth.Principal{Subject: "b", Tenant: "beta", Role: auth.RoleAdmin})
	url := f.follower("acme")
	call := func(method, body string, hdr map[string]string, cookies ...*http.Cookie) (int, string) {
		req, _ := http.NewRequest("POST", url+"/knhk.v1.KnhkService/"+method, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		for _, c := range cookies {
			req.AddCookie(c)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	// A console session opened on the follower starts a case: the
	// follower forwards the start to the leader with the principal.
	resp, err := http.Post(url+LoginPath, "application/json", strings.NewReader(`{"token":"`+acmeTok+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == SessionCookie {
			session = c
		}
	}
	if resp.StatusCode != http.StatusOK || session == nil {
		t.Fatalf("login on a follower: %d %v", resp.StatusCode, resp.Cookies())
	}
	var id string
	waitCond(t, "a start with the session through a follower", func() bool {
		code, body := call("StartCase", `{"workflow":"Base","requestId":"by-session"}`, nil, session)
		if code != http.StatusOK {
			t.Logf("start with a session: %d %s", code, body)
			return false
		}
		var r struct {
			CaseID string `json:"caseId"`
		}
		json.Unmarshal([]byte(body), &r)
		id = r.CaseID
		return id != ""
	})
	// beta's token with a header naming acme is beta's call: acme's
	// case is not found; the header alone authenticates nobody.
	forged := encodeForwarded(auth.Principal{Tenant: "acme", Subject: "a", Role: auth.RoleAdmin})
	if code, body := call("GetCase", `{"caseId":"`+id+`"}`, map[string]string{"Authorization": "Bearer " + betaTok, ForwardedPrincipalHeader: forged}); code != http.StatusNotFound {
		t.Fatalf("beta's token with acme's principal header: %d %s", code, body)
	}
	if code, body := call("GetCase", `{"caseId":"`+id+`"}`, map[string]string{ForwardedPrincipalHeader: forged}); code != http.StatusUnauthorized {
		t.Fatalf("a principal header alone: %d %s", code, body)
	}
	// With the nodes' token it is the principal it names (what a
	// follower sends).
	if code, body := call("GetCase", `{"caseId":"`+id+`"}`, map[string]string{"Authorization": "Bearer static-token", ForwardedPrincipalHeader: forged}); code != http.StatusOK {
		t.Fatalf("the nodes' token with acme's principal: %d %s", code, body)
	}
	bad := base64.RawURLEncoding.EncodeToString([]byte(`{"tenant":"default","role":4}`))
	if code, body := call("GetCase", `{"caseId":"`+id+`"}`, map[string]string{"Authorization": "Bearer static-token", ForwardedPrincipalHeader: bad}); code != http.StatusUnauthorized {
		t.Fatalf("a principal header of the default tenant: %d %s", code, body)
	}
}
