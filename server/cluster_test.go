package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/queue"
	"github.com/knhk/knhk/runtime/worker"
)

const clusterSrc = `package app

workflow Hold(id: string) -> string {
  signal Approve(by: string)
  select {
    on signal Approve(by: string) -> { return id + " by " + by }
    on timer 48h -> { fail "nobody approved" }
  }
}
`

func clusterProgram(t testing.TB) *ir.Program { return buildProgram(t, "app.knhk", clusterSrc) }

// buildProgram checks and compiles src, named file, failing t on any
// error.
func buildProgram(t testing.TB, file, src string) *ir.Program {
	t.Helper()
	pkg, info, diags := check.CheckSource(file, []byte(src), &check.Config{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	p, ds := compiler.Build(pkg, info)
	if ds.HasErrors() {
		t.Fatal(ds)
	}
	return p
}

type apiNode struct {
	n   *cluster.Node
	srv *httptest.Server
	tr  *raft.InmemTransport
	api *ClusterAPI
}

// apiCluster starts three nodes on raft's in-memory transport, each
// with its API on an httptest server; the leader promotes the others
// after asking their APIs how far they have applied.
func apiCluster(t testing.TB) map[string]*apiNode {
	return apiClusterOf(t, clusterProgram(t), false)
}

// apiClusterOf is apiCluster for program prog; with queues, each node
// has a queue broker (as knhk serve --node gives it).
func apiClusterOf(t testing.TB, prog *ir.Program, queues bool) map[string]*apiNode {
	var mu sync.Mutex
	trans := map[string]*raft.InmemTransport{}
	nodes := map[string]*apiNode{}
	t.Cleanup(func() {
		for _, a := range nodes {
			a.srv.Close()
			a.n.Close()
		}
	})
	timing := cluster.Timing{Heartbeat: clusterTimingScale * 100 * time.Millisecond, Election: clusterTimingScale * 100 * time.Millisecond,
		Lease: clusterTimingScale * 100 * time.Millisecond, Commit: 5 * time.Millisecond, Tick: 20 * time.Millisecond}
	for i, id := range []string{"n1", "n2", "n3"} {
		_, tr := raft.NewInmemTransport(raft.ServerAddress(id))
		mu.Lock()
		for pid, p := range trans {
			tr.Connect(raft.ServerAddress(pid), p)
			p.Connect(raft.ServerAddress(id), tr)
		}
		trans[id] = tr
		mu.Unlock()
		var h http.Handler = http.NotFoundHandler()
		var hmu sync.Mutex
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hmu.Lock()
			hh := h
			hmu.Unlock()
			hh.ServeHTTP(w, r)
		}))
		// As knhk serve --node: HTTP/2 cleartext too (workers' streams).
		srv.Config.Protocols = new(http.Protocols)
		srv.Config.Protocols.SetHTTP1(true)
		srv.Config.Protocols.SetUnencryptedHTTP2(true)
		srv.Start()
		cfg := cluster.Config{ID: id, API: srv.URL, Bootstrap: i == 0, Program: prog, Eval: &host.Evaluator{},
			Worker: worker.New(prog, worker.Options{}), Transport: tr, Timing: timing, Compile: ClusterCompile}
		if queues {
			cfg.Queue = cluster.NewQueue(queue.Options{})
			cfg.Worker = worker.New(prog, worker.Options{Queue: cfg.Queue})
		}
		wq := cfg.Queue
		cfg.WorkerFor = func(p *ir.Program) engine.Worker {
			if wq == nil {
				return worker.New(p, worker.Options{})
			}
			return worker.New(p, worker.Options{Queue: wq})
		}
		n, err := cluster.NewNode(cfg)
		if err != nil {
			t.Fatal(err)
		}
		capi := NewClusterAPI(n, prog)
		hmu.Lock()
		h = capi
		hmu.Unlock()
		nodes[id] = &apiNode{n: n, srv: srv, tr: tr, api: capi}
		if i == 0 {
			waitCluster(t, "n1 to lead", n.IsLeader)
			continue
		}
		body, _ := json.Marshal(ClusterJoinRequest{Member: cluster.Member{ID: id, Raft: id, API: srv.URL}, Program: n.ProgramHash()})
		// n3 joins through n2, a follower, which forwards to n1.
		via := "n1"
		if id == "n3" {
			via = "n2"
		}
		// A follower that has not heard from the leader yet answers 503
		// with retry set, and a client retries, as the CLI does.
		var code int
		var out string
		waitCluster(t, "join "+id, func() bool {
			code, out = call(t, http.MethodPost, nodes[via].srv.URL+"/cluster/v1/members", body)
			return code != http.StatusServiceUnavailable || !strings.Contains(out, `"retry":true`)
		})
		if code != http.StatusOK {
			t.Fatalf("join %s through %s: %d %s", id, via, code, out)
		}
	}
	waitCluster(t, "three voters", func() bool {
		var st cluster.Status
		_, out := call(t, http.MethodGet, nodes["n1"].srv.URL+cluster.StatusPath, nil)
		json.Unmarshal([]byte(out), &st)
		v := 0
		for _, m := range st.Members {
			if m.Suffrage == "Voter" {
				v++
			}
		}
		return v == 3
	})
	return nodes
}

// waitCluster polls cond until it holds. Its limit is a minute, not the
// seconds a quiet machine needs: an election or a replication on CI's
// loaded 2-core machine, under -race, can take several times longer, and
// a condition that holds returns at once whatever the limit.
func waitCluster(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func call(t testing.TB, method, url string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusTemporaryRedirect {
		return resp.StatusCode, resp.Header.Get("Location")
	}
	return resp.StatusCode, string(b)
}

func TestClusterAPI(t *testing.T) {
	nodes := apiCluster(t)
	leader, follower := nodes["n1"], nodes["n3"]
	if !leader.n.IsLeader() {
		t.Skip("leadership moved while the cluster formed")
	}
	start := `{"id":"c1","workflow":"Hold","input":"c1","request_id":"r1"}`
	for _, tc := range []struct {
		name, method, url, body string
		code                    int
		want                    string
	}{
		{"start through a follower", "POST", follower.srv.URL + "/cluster/v1/cases", start, 200, `"started":"c1"`},
		{"retried start", "POST", follower.srv.URL + "/cluster/v1/cases", start, 200, `"started":"c1"`},
		{"start again", "POST", leader.srv.URL + "/cluster/v1/cases", `{"id":"c1","workflow":"Hold","input":"c1","request_id":"r2"}`, 409, "case exists"},
		{"bad input", "POST", leader.srv.URL + "/cluster/v1/cases", `{"id":"c2","workflow":"Hold","input":42}`, 400, "bad input for Hold"},
		{"no workflow", "POST", leader.srv.URL + "/cluster/v1/cases", `{"id":"c2","workflow":"Nope"}`, 400, "no workflow Nope"},
		{"not JSON", "POST", leader.srv.URL + "/cluster/v1/cases", `{`, 400, "bad request body"},
		{"unknown signal", "POST", follower.srv.URL + "/cluster/v1/cases/c1/signal", `{"name":"Reject"}`, 400, "has no signal Reject (it has: [Approve])"},
		{"unknown case", "GET", follower.srv.URL + "/cluster/v1/cases/zz", "", 404, "unknown case zz"},
		{"redirect", "POST", follower.srv.URL + "/cluster/v1/cases/c1/cancel?redirect=1", `{}`, 307, leader.srv.URL + "/cluster/v1/cases/c1/cancel"},
		{"bad consistency", "GET", leader.srv.URL + "/cluster/v1/cases/c1?consistency=eventual", "", 400, "want linearizable or stale"},
		{"signal", "POST", follower.srv.URL + "/cluster/v1/cases/c1/signal", `{"name":"Approve","payload":{"by":"ann"},"request_id":"s1"}`, 200, "signalled"},
		{"history through a follower", "GET", follower.srv.URL + "/cluster/v1/cases/c1/history?detail=1", "", 200, `"kind":"signal","step":"Approve"`},
		{"history's first page", "GET", follower.srv.URL + "/cluster/v1/cases/c1/history?detail=1&size=1", "", 200, `"next":1,"node":"n1"`},
		{"history, bad size", "GET", follower.srv.URL + "/cluster/v1/cases/c1/history?size=x", "", 400, `want a whole number`},
		{"history of no case", "GET", leader.srv.URL + "/cluster/v1/cases/zz/history", "", 404, "unknown case zz"},
		{"keyed start", "POST", leader.srv.URL + "/cluster/v1/cases", `{"id":"k1","workflow":"Hold","input":"k1","key":"order-1"}`, 200, `"started":"k1"`},
		{"the key for another case", "POST", leader.srv.URL + "/cluster/v1/cases", `{"id":"k2","workflow":"Hold","input":"k2","key":"order-1"}`, 409, `business key \"order-1\" names case k1`},
	} {
		code, out := call(t, tc.method, tc.url, []byte(tc.body))
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("%s: %d %s, want %d and %q", tc.name, code, out, tc.code, tc.want)
		}
	}
	// The signal's acknowledgement means its event committed; the case
	// runs on to its result in later commands, which a linearizable read
	// through the follower then shows.
	waitCluster(t, "the result through a follower", func() bool {
		code, out := call(t, "GET", follower.srv.URL+"/cluster/v1/cases/c1", nil)
		return code == 200 && strings.Contains(out, `"result":"c1 by ann","node":"n1","started":"20`)
	})
	waitCluster(t, "c1 on n3", func() bool {
		_, out := call(t, "GET", follower.srv.URL+"/cluster/v1/cases/c1?consistency=stale", nil)
		return strings.Contains(out, `"status":"completed"`) && strings.Contains(out, `"node":"n3"`)
	})
	waitCluster(t, "c1's history on n3", func() bool {
		_, out := call(t, "GET", follower.srv.URL+"/cluster/v1/cases/c1/history?consistency=stale&detail=1", nil)
		return strings.Contains(out, `"kind":"signal","step":"Approve"`) && strings.Contains(out, `"node":"n3"`)
	})
}
