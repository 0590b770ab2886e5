// This file tests knhk serve --node --tenants as processes on loopback:
// three nodes serving tenants acme and beta (registered on the founding
// node's disk before the cluster started, and migrated into the
// cluster's log), each tenant a raft group of its own on the three
// nodes; delta is created, suspended and deleted through three
// different nodes. A tenant's calls through any node
// reach only its own cases (beta's token with acme's case id is "not
// found" on every node); beta's licence refuses a start beyond its
// concurrent cases, naming the limit, while its running case finishes;
// usage counted from a tenant's log is the same on every node; and when
// the leader of acme's group is killed, acme's case goes on.

package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/cluster"
)

// tenantClusterTiers has a tier of one running case.
const tenantClusterTiers = `{"version":1,"tiers":{"one":{"concurrent_cases":1}}}`

// groupStatus reads tenant group id's status on node p with the
// cluster's token.
func groupStatus(t *testing.T, p *serveProc, id string) (*cluster.Status, bool) {
	code, body := p.get(t, "/cluster/v1/groups/"+id+"/status", clusterToken)
	if code != http.StatusOK {
		return nil, false
	}
	var st cluster.Status
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("group status: %v\n%s", err, body)
	}
	return &st, true
}

// waitLong waits for cond with a deadline generous enough for a loaded
// machine (elections of several groups over real processes).
func waitLong(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// tenantClusterDir returns a new directory holding app.knhk (the
// cluster's program) and token (the nodes' --token-file).
func tenantClusterDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.knhk"), []byte(clusterSource), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(clusterToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// connectCall posts a Connect unary call as JSON to the node at base.
func connectCall(t *testing.T, base, method, token, body string) (int, string) {
	t.Helper()
	return postCall(t, base+"/knhk.v1.KnhkService/"+method, http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + token}}, body)
}

// postCall posts body to url with the headers hdr and returns the
// answer's status and body.
func postCall(t *testing.T, url string, hdr http.Header, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = hdr.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestClusterTenantsProcesses(t *testing.T) {
	dir := tenantClusterDir(t)
	os.WriteFile(filepath.Join(dir, "tiers.json"), []byte(tenantClusterTiers), 0o644)
	must := mustKnhkIn(t, dir)
	must("keygen", "--alg", "mldsa65-ed25519", "-o", "vendor.key")
	must("license", "issue", "--key", "vendor.key", "--tiers", "tiers.json", "--tier", "one", "--customer", "beta-inc", "--tenant", "beta", "--days", "30", "-o", "beta.lic")
	acme := must("tenant", "create", "--data", "d-n1", "acme")
	beta := must("tenant", "create", "--data", "d-n1", "--license", "beta.lic", "--license-trust", "vendor.key.pub", "beta")
	// gamma admits only signed deploys: its group's leader and replicas
	// check them (clusterusage_proc_test.go tests them signed).
	gamma := must("tenant", "create", "--data", "d-n1", "--trust", "vendor.key.pub", "gamma")

	// Without --token-file a node refuses --tenants: the nodes need a
	// credential of their own to probe each other's tenant groups.
	if code, _, errb := knhkProc(t, dir, "serve", "--data", "d-x", "--node", "x", "--raft", "127.0.0.1:0", "--tenants", "app.knhk"); code != 1 || !strings.Contains(errb, "--tenants with --node needs --token-file") {
		t.Fatalf("--tenants without --token-file: %d %q", code, errb)
	}

	procs, stop := tenantNodes(t, dir, 3, "acme", "beta")
	defer stop()
	n1 := procs["n1"]
	// leaderOf returns the node leading tenant id's group and another.
	leaderOf := func(id string) (lead, other *serveProc) {
		var name string
		waitLong(t, "a leader of "+id, func() bool {
			for _, p := range procs {
				if st, ok := groupStatus(t, p, id); ok && st.Leader != "" {
					name = st.Leader
					return procs[name] != nil
				}
			}
			return false
		})
		for n, p := range procs {
			if n != name {
				other = p
			}
		}
		return procs[name], other
	}

	waitLong(t, "gamma's unsigned deploy refused", func() bool {
		code, body := connectCall(t, n1.url, "Deploy", gamma, `{"name":"g.knhk","source":"package g\nworkflow G() -> int { return 1 }\n"}`)
		if code == http.StatusOK {
			t.Fatalf("gamma's unsigned deploy: %s", body)
		}
		return strings.Contains(body, "is unsigned")
	})

	// A tenant created through a follower while the cluster runs: the
	// change is committed to the cluster's log, and its token works
	// through any node.
	admin := func(args ...string) string {
		t.Helper()
		code, out, errb := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + clusterToken}, append([]string{"tenant"}, args...)...)
		if code != 0 {
			t.Fatalf("knhk tenant %v: %d %s", args, code, errb)
		}
		return strings.TrimSpace(out)
	}
	delta := admin("create", "--server", procs["n2"].url, "delta")
	waitLong(t, "delta's group on three voters", func() bool {
		st, ok := groupStatus(t, procs["n3"], "delta")
		return ok && st.Leader != "" && voters(st) == 3
	})
	if code, out, errb := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + delta}, "cluster", "--server", procs["n3"].url, "start", "d1", "--workflow", "Hold", "--input", `"d1"`); code != 0 {
		t.Fatalf("delta's start through n3: %d %s %s", code, out, errb)
	}
	// Suspending and deleting through other nodes reach every node: a
	// suspended tenant's calls are refused, a deleted one's raft group
	// is closed and its replica erased on each node.
	admin("suspend", "--server", procs["n3"].url, "delta")
	waitLong(t, "delta suspended on n1", func() bool {
		_, body := connectCall(t, procs["n1"].url, "ListCases", delta, `{}`)
		return strings.Contains(body, "tenant delta is suspended")
	})
	admin("delete", "--server", procs["n1"].url, "delta")
	waitLong(t, "delta erased on every node", func() bool {
		for n := range procs {
			if _, err := os.Stat(filepath.Join(dir, "d-"+n, "cluster", n, "tenants", "delta")); !os.IsNotExist(err) {
				return false
			}
		}
		_, body := connectCall(t, procs["n2"].url, "ListCases", delta, `{}`)
		return strings.Contains(body, "tenant delta does not exist")
	})

	// No private key travels: the copies verify the founding node's
	// tokens, they cannot issue them.
	for _, n := range []string{"d-n2", "d-n3"} {
		if _, err := os.Stat(filepath.Join(dir, n, "tenants", "issuer.key")); !os.IsNotExist(err) {
			t.Fatalf("%s holds the issuer's private key: %v", n, err)
		}
		if _, err := os.Stat(filepath.Join(dir, n, "tenants", "beta", "license.lic")); err != nil {
			t.Fatalf("%s lacks beta's licence: %v", n, err)
		}
	}

	// knhk cluster status with a tenant's token shows the tenant's group.
	if code, out, errb := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + acme}, "cluster", "--server", procs["n3"].url, "--json", "status"); code != 0 || strings.Count(out, `"Voter"`) != 3 {
		t.Fatalf("acme's cluster status: %d %s %s", code, out, errb)
	}

	// acme runs a case through a follower of its group.
	_, follower := leaderOf("acme")
	code, _, errb := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + acme}, "run", "--server", follower.url, "app.knhk", "--input-json", `"acme-secret"`)
	m := regexp.MustCompile(`case (\S+)`).FindStringSubmatch(errb)
	if code != 0 || m == nil || !strings.Contains(errb, "waiting for signal Approve") {
		t.Fatalf("acme's run --server: exit %d\n%s", code, errb)
	}
	acmeCase := m[1]

	// beta, on every node, with acme's case id: not found, never data.
	for name, p := range procs {
		for _, args := range [][]string{
			{"signal", "--server", p.url, acmeCase, "Approve", `{"by":"mallory"}`},
			{"history", "--server", p.url, acmeCase},
		} {
			code, out, errs := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + beta}, args...)
			if code == 0 || !strings.Contains(errs, "not found") && !strings.Contains(errs, "unknown case") || strings.Contains(out, "acme-secret") {
				t.Fatalf("beta's %s on %s: %d %q %q", args[0], name, code, out, errs)
			}
		}
		// The Connect API's methods that name a case, as JSON.
		for _, method := range []string{"GetCase", "WaitCase", "QueryCase", "SignalCase", "CancelCase", "GetHistory", "Export"} {
			body := `{"caseId":"` + acmeCase + `","name":"Approve","payloadJson":"{\"by\":\"m\"}","timeoutMs":10,"caseIds":["` + acmeCase + `"],"format":"csv"}`
			code, out := connectCall(t, p.url, method, beta, body)
			if code != http.StatusNotFound || !strings.Contains(out, "not_found") || strings.Contains(out, "acme-secret") {
				t.Fatalf("beta's %s on %s: %d %s", method, name, code, out)
			}
		}
		for _, path := range []string{"/cluster/v1/cases/" + acmeCase, "/cluster/v1/cases/" + acmeCase + "/history"} {
			if code, body := p.get(t, path, beta); code != http.StatusNotFound || strings.Contains(body, "acme-secret") {
				t.Fatalf("beta's GET %s on %s: %d %s", path, name, code, body)
			}
		}
		if code, body := p.get(t, "/cluster/v1/cases", beta); code != http.StatusOK || strings.Contains(body, acmeCase) {
			t.Fatalf("beta lists on %s: %d %s", name, code, body)
		}
		// The --token-file token is the cluster's own (the default
		// tenant's) admin: acme's case is not the cluster's either.
		if code, body := p.get(t, "/cluster/v1/cases/"+acmeCase+"?consistency=stale", clusterToken); code != http.StatusNotFound {
			t.Fatalf("the cluster's token reads acme's case on %s: %d %s", name, code, body)
		}
	}

	// Each node audits the calls it received: beta's refused reads of
	// acme's case are in n2's log, as beta's admin exports it there.
	code, out, errb := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + beta}, "audit", "export", "--server", procs["n2"].url, "--node-local", "--format", "json")
	if code != 0 || !strings.Contains(out, "/knhk.v1.KnhkService/GetCase") || !strings.Contains(out, acmeCase) || !strings.Contains(out, `"beta"`) || strings.Contains(out, `"tenant": "acme"`) {
		t.Fatalf("beta's audit export on n2: %d %s\n%s", code, errb, out)
	}

	// beta's licence allows one running case: a second start is refused
	// by the group's leader, naming the limit, whichever node it comes
	// through; the running case is untouched and finishes.
	code, _, errb = knhkEnv(t, dir, []string{"KNHK_TOKEN=" + beta}, "run", "--server", n1.url, "app.knhk", "--input-json", `"b1"`)
	m = regexp.MustCompile(`case (\S+)`).FindStringSubmatch(errb)
	if code != 0 || m == nil {
		t.Fatalf("beta's first run: exit %d\n%s", code, errb)
	}
	betaCase := m[1]
	for name, p := range procs {
		code, _, errb := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + beta}, "run", "--server", p.url, "app.knhk", "--input-json", `"b2"`)
		if code == 0 || !strings.Contains(errb, "licence limit concurrent_cases (1, tier one) reached") {
			t.Fatalf("beta's second start through %s: exit %d\n%s", name, code, errb)
		}
	}
	if code, out, errb := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + beta}, "signal", "--server", procs["n3"].url, betaCase, "Approve", `{"by":"bob"}`); code != 0 || strings.TrimSpace(out) != `"b1 by bob"` {
		t.Fatalf("beta's running case after the refusal: %d %q %q", code, out, errb)
	}
	if code, _, errb := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + beta}, "cluster", "--server", procs["n2"].url, "start", "b3", "--workflow", "Hold", "--input", `"b3"`); code != 0 {
		t.Fatalf("beta's start once its case ended: %s", errb)
	}

	// Usage of acme's month from its log: the same on every node once
	// they applied the same entries.
	usage := func(p *serveProc) map[string]any {
		code, body := p.get(t, "/cluster/v1/usage", acme)
		if code != http.StatusOK {
			t.Fatalf("usage: %d %s", code, body)
		}
		var u map[string]any
		json.Unmarshal([]byte(body), &u)
		delete(u, "node")
		return u
	}
	waitLong(t, "the same usage on every node", func() bool {
		var first string
		for _, p := range procs {
			b, _ := json.Marshal(usage(p))
			if first == "" {
				first = string(b)
			} else if string(b) != first {
				return false
			}
		}
		return true
	})
	if u := usage(n1); u["cases"] != float64(1) || u["tenant"] != "acme" {
		t.Fatalf("acme's usage: %v", u)
	}
	// The usage counts through /metrics too, and beta's metrics are its
	// own.
	if code, body := n1.get(t, "/metrics", beta); code != http.StatusOK || !strings.Contains(body, "knhk_usage_cases{month=") {
		t.Fatalf("beta's metrics: %d\n%s", code, body)
	}

	// Kill the leader of acme's group: another node leads it, and acme's
	// case takes its signal and finishes there.
	lead, _ := leaderOf("acme")
	var killed string
	for n, p := range procs {
		if p == lead {
			killed = n
		}
	}
	lead.cmd.Process.Signal(syscall.SIGKILL)
	lead.cmd.Wait()
	delete(procs, killed)
	_, rest := leaderOf("acme")
	waitLong(t, "acme's signal after the leader was killed", func() bool {
		code, out, _ := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + acme}, "signal", "--server", rest.url, acmeCase, "Approve", `{"by":"ann"}`)
		return code == 0 && strings.TrimSpace(out) == `"acme-secret by ann"`
	})
	// beta's group may have lost its leader too: once it answers again,
	// acme's case is still unknown to it.
	leaderOf("beta")
	waitLong(t, "beta's answer after the failover", func() bool {
		code, body := rest.get(t, "/cluster/v1/cases/"+acmeCase, beta)
		if code != http.StatusNotFound && code != http.StatusServiceUnavailable {
			t.Fatalf("beta reads acme's case after the failover: %d %s", code, body)
		}
		return code == http.StatusNotFound
	})
}

// TestClusterLicenseStarts checks --license on a raft node's own cases:
// its leader refuses a start beyond the licence's concurrent cases,
// naming the limit, and the running case finishes.
func TestClusterLicenseStarts(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.knhk"), []byte(clusterSource), 0o666); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "tiers.json"), []byte(tenantClusterTiers), 0o644)
	for _, args := range [][]string{
		{"keygen", "--alg", "mldsa65-ed25519", "-o", "vendor.key"},
		{"license", "issue", "--key", "vendor.key", "--tiers", "tiers.json", "--tier", "one", "--customer", "acme", "--days", "30", "-o", "one.lic"},
	} {
		if code, _, errs := knhkProc(t, dir, args...); code != 0 {
			t.Fatalf("knhk %s: %s", args[0], errs)
		}
	}
	p := startServe(t, dir, "d", "--node", "n1", "--raft", "127.0.0.1:0", "--license", "one.lic", "--license-trust", "vendor.key.pub", "app.knhk")
	defer p.stop(t, syscall.SIGTERM)
	waitLong(t, "a leader", func() bool { st, ok := clusterStatusOf(t, dir, p.url); return ok && st.Leader == "n1" })
	if code, _, errb := knhkProc(t, dir, "cluster", "--server", p.url, "start", "c1", "--workflow", "Hold", "--input", `"c1"`); code != 0 {
		t.Fatalf("first start: %s", errb)
	}
	code, _, errb := knhkProc(t, dir, "cluster", "--server", p.url, "start", "c2", "--workflow", "Hold", "--input", `"c2"`)
	if code == 0 || !strings.Contains(errb, "licence limit concurrent_cases (1, tier one) reached") {
		t.Fatalf("second start: %d %s", code, errb)
	}
	if code, out, errb := knhkProc(t, dir, "signal", "--server", p.url, "c1", "Approve", `{"by":"bob"}`); code != 0 || strings.TrimSpace(out) != `"c1 by bob"` {
		t.Fatalf("the running case: %d %q %q", code, out, errb)
	}
	if code, _, errb := knhkProc(t, dir, "cluster", "--server", p.url, "start", "c3", "--workflow", "Hold", "--input", `"c3"`); code != 0 {
		t.Fatalf("start once the case ended: %s", errb)
	}
	// The cluster's own usage, from its log: two cases started (the
	// refused one is not in the log).
	code, body := p.get(t, "/cluster/v1/usage", "")
	var u struct {
		Cases       int64 `json:"cases"`
		Transitions int64 `json:"transitions"`
	}
	if err := json.Unmarshal([]byte(body), &u); code != http.StatusOK || err != nil || u.Cases != 2 || u.Transitions == 0 {
		t.Fatalf("usage: %d %s", code, body)
	}
	if _, m := p.get(t, "/metrics", ""); !strings.Contains(m, `knhk_usage_cases{month="`) {
		t.Fatalf("metrics without knhk_usage_cases:\n%s", m)
	}
}
