package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/cluster"
)

// TestClusterTenantAdminProcesses administers the tenants of a
// three-node cluster through its nodes, with knhk tenant --server: a
// tenant created through one node is served by all three and suspended
// through another; every node holds the same registry at the same
// revision; a tenant created with --encrypt is sealed at rest on every
// node and its erasure has every node destroy its key; once the
// founding node is killed the other two still
// create, suspend and delete tenants, and a tenant they create gets a
// raft group and serves cases; a node's copy is not changed in place;
// and no private key is replicated.
func TestClusterTenantAdminProcesses(t *testing.T) {
	dir := tenantClusterDir(t)
	procs, stop := tenantNodes(t, dir, 3)
	defer stop()
	n1, n2, n3 := procs["n1"], procs["n2"], procs["n3"]

	tenantRun := func(env []string, args ...string) (int, string, string) {
		t.Helper()
		code, out, errb := knhkEnv(t, dir, env, append([]string{"tenant"}, args...)...)
		return code, strings.TrimSpace(out), errb
	}
	admin := func(args ...string) string {
		t.Helper()
		code, out, errb := tenantRun([]string{"KNHK_TOKEN=" + clusterToken}, args...)
		if code != 0 {
			t.Fatalf("knhk tenant %v: %d %s", args, code, errb)
		}
		return out
	}
	// Without the cluster's token: refused.
	if code, _, errb := tenantRun([]string{"KNHK_TOKEN=nope"}, "create", "--server", n2.url, "zeta"); code == 0 || !strings.Contains(errb, "needs the cluster's token") {
		t.Fatalf("create with a wrong token: %d %s", code, errb)
	}
	// Onboarding is one command, through any node.
	began := time.Now()
	acme := admin("create", "--server", n2.url, "--max-running", "5", "acme")
	waitLong(t, "acme's group on three voters", func() bool {
		st, ok := groupStatus(t, n3, "acme")
		return ok && st.Leader != "" && voters(st) == 3
	})
	if code, out, errb := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + acme}, "cluster", "--server", n3.url, "start", "a1", "--workflow", "Hold", "--input", `"a1"`); code != 0 {
		t.Fatalf("acme's start through n3: %d %s %s", code, out, errb)
	}
	t.Logf("onboarding: from knhk tenant create to the tenant's first case on three voters: %v", time.Since(began).Round(time.Millisecond))
	// A token issued through one node, revoked through another, is
	// refused by every node.
	code, viewer, errb := tenantRun([]string{"KNHK_TOKEN=" + clusterToken}, "token", "--server", n1.url, "--role", "viewer", "acme")
	m := regexp.MustCompile(`token id (\S+)`).FindStringSubmatch(errb)
	if code != 0 || m == nil {
		t.Fatalf("token: %d %s", code, errb)
	}
	waitLong(t, "acme's viewer token on n2", func() bool {
		code, _ := connectCall(t, n2.url, "ListCases", viewer, `{}`)
		return code == http.StatusOK
	})
	admin("revoke", "--server", n3.url, "--jti", m[1], "acme")
	for name, p := range procs {
		waitLong(t, "the viewer token refused on "+name, func() bool {
			_, body := connectCall(t, p.url, "ListCases", viewer, `{}`)
			return strings.Contains(body, "revoked")
		})
	}
	// A one-time token issued through n2: its first write through n3
	// succeeds, and the cluster's log refuses it again through n1.
	once := admin("token", "--server", n2.url, "--role", "operator", "--once", "acme")
	waitLong(t, "acme's one-time token's start through n3", func() bool {
		code, _, errb := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + once}, "cluster", "--server", n3.url, "start", "o1", "--workflow", "Hold", "--input", `"o1"`)
		if code != 0 && strings.Contains(errb, "already used") {
			t.Fatalf("the one-time token refused before its use: %s", errb)
		}
		return code == 0
	})
	if code, _, errb := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + once}, "cluster", "--server", n1.url, "start", "o2", "--workflow", "Hold", "--input", `"o2"`); code == 0 || !strings.Contains(errb, "already used") {
		t.Fatalf("the one-time token used again through n1: %d %s", code, errb)
	}
	waitLong(t, "acme's o1 cancelled", func() bool {
		code, _, _ := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + acme}, "cluster", "--server", n1.url, "cancel", "o1")
		return code == 0
	})
	// A retried call (the same request id) takes effect once, through
	// whichever node: the second answers as the first did, where a new
	// create would be refused ("exists").
	post := func(p *serveProc, body string) (int, string) {
		t.Helper()
		return postCall(t, p.url+tenantsPath, http.Header{"Authorization": {"Bearer " + clusterToken}}, body)
	}
	for _, p := range []*serveProc{n2, n3} {
		code, body := post(p, `{"op":"create","id":"retried","req":"same-request"}`)
		var ans tenantAdminAnswer
		if code != http.StatusOK || json.Unmarshal([]byte(body), &ans) != nil || ans.Token == "" || ans.Tenant == nil || ans.Tenant.ID != "retried" {
			t.Fatalf("a retried create through %s: %d %s", p.url, code, body)
		}
	}
	// Creating it again is refused, whichever node it goes through.
	if code, _, errb := tenantRun([]string{"KNHK_TOKEN=" + clusterToken}, "create", "--server", n1.url, "acme"); code == 0 || !strings.Contains(errb, "tenant acme exists") {
		t.Fatalf("a second create: %d %s", code, errb)
	}
	admin("suspend", "--server", n3.url, "acme")
	for name, p := range procs {
		waitLong(t, "acme suspended on "+name, func() bool {
			_, body := connectCall(t, p.url, "ListCases", acme, `{}`)
			return strings.Contains(body, "tenant acme is suspended")
		})
	}
	if out := admin("list", "--server", n1.url); !strings.Contains(out, "acme") || !strings.Contains(out, "suspended") {
		t.Fatalf("list:\n%s", out)
	}
	// A node's copy is the cluster's: not changed in place.
	if code, _, errb := tenantRun(nil, "resume", "--data", "d-n2", "acme"); code == 0 || !strings.Contains(errb, "--server") {
		t.Fatalf("an in-place change of n2's copy: %d %s", code, errb)
	}
	admin("resume", "--server", n1.url, "acme")

	// A tenant's licence and trust directory go through any node too,
	// committed with the registry: a licence set through a follower
	// limits acme's starts on every node (a1 still runs, and the tier
	// allows one case), and a trust directory set through another node
	// has every node refuse acme's unsigned deploys.
	os.WriteFile(filepath.Join(dir, "tiers.json"), []byte(tenantClusterTiers), 0o644)
	os.WriteFile(filepath.Join(dir, "v2.knhk"), []byte(strings.Replace(clusterSource, `id + " by " + by`, `id + " approved by " + by`, 1)), 0o644)
	mustIn := mustKnhkIn(t, dir)
	mustIn("keygen", "--alg", "mldsa65-ed25519", "-o", "vendor.key")
	mustIn("license", "issue", "--key", "vendor.key", "--tiers", "tiers.json", "--tier", "one", "--customer", "acme-inc", "--tenant", "acme", "--days", "30", "-o", "acme.lic")
	mustIn("license", "issue", "--key", "vendor.key", "--tiers", "tiers.json", "--tier", "one", "--customer", "beta-inc", "--tenant", "beta", "--days", "30", "-o", "beta.lic")
	var st cluster.Status
	if code, body := n1.get(t, cluster.StatusPath, clusterToken); code != http.StatusOK || json.Unmarshal([]byte(body), &st) != nil || st.Leader == "" {
		t.Fatalf("the cluster's status: %d %s", code, body)
	}
	follower := n2
	if st.Leader == "n2" {
		follower = n3
	}
	if code, _, errb := tenantRun([]string{"KNHK_TOKEN=" + clusterToken}, "set", "--server", follower.url, "--license", "beta.lic", "--license-trust", "vendor.key.pub", "acme"); code == 0 || !strings.Contains(errb, "is for tenant beta, not acme") {
		t.Fatalf("beta's licence set on acme: %d %s", code, errb)
	}
	if code, _, errb := tenantRun([]string{"KNHK_TOKEN=" + clusterToken}, "set", "--server", follower.url, "--sign-key", "new", "acme"); code == 0 || !strings.Contains(errb, "private") {
		t.Fatalf("a signing key through --server: %d %s", code, errb)
	}
	if code, body := post(n3, `{"op":"set","id":"acme","replace":["trust"],"files":{"trust/vendor.key":"c2VjcmV0"}}`); code != http.StatusBadRequest || !strings.Contains(body, "private key") {
		t.Fatalf("a private key sent as a trust file: %d %s", code, body)
	}
	// Each node reopens acme with what it applied within a second: a
	// start that beat that is cancelled, and tried again.
	cancelAcme := func(p *serveProc, id string) {
		t.Helper()
		waitLong(t, "acme's "+id+" cancelled", func() bool {
			code, _, _ := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + acme}, "cluster", "--server", p.url, "cancel", id)
			return code == 0
		})
	}
	admin("set", "--server", follower.url, "--license", "acme.lic", "--license-trust", "vendor.key.pub", "acme")
	tries := 0
	for name, p := range procs {
		waitLong(t, "acme's licence refusing a second case through "+name, func() bool {
			tries++
			id := fmt.Sprintf("l%d", tries)
			code, _, errb := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + acme}, "cluster", "--server", p.url, "start", id, "--workflow", "Hold", "--input", `"l"`)
			if code == 0 {
				cancelAcme(p, id)
				return false
			}
			return strings.Contains(errb, "licence limit concurrent_cases (1, tier one) reached")
		})
	}
	if out := admin("list", "--server", n3.url); !regexp.MustCompile(`acme .*licence`).MatchString(out) {
		t.Fatalf("list after the licence:\n%s", out)
	}
	waitLong(t, "a1 to take its signal", func() bool {
		code, out, _ := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + acme}, "signal", "--server", n2.url, "a1", "Approve", `{"by":"ann"}`)
		return code == 0 && strings.Contains(out, "a1 by ann")
	})
	// acme deploys an unsigned program while it has no trust directory:
	// a trust directory that does not admit it is refused (every node
	// would refuse the deploy when it replays acme's log), one that
	// carries its signature is committed, and acme's group goes on on
	// every node.
	os.WriteFile(filepath.Join(dir, "old.knhk"), []byte(strings.Replace(clusterSource, `id + " by " + by`, `id + " (old) by " + by`, 1)), 0o644)
	code, _, errb = knhkEnv(t, dir, []string{"KNHK_TOKEN=" + acme}, "run", "--server", n2.url, "--workflow", "Hold", "--input-json", `"old"`, "old.knhk")
	m = regexp.MustCompile(`case (\S+)`).FindStringSubmatch(errb)
	if code != 0 || m == nil {
		t.Fatalf("acme's unsigned deploy without a trust directory: %d %s", code, errb)
	}
	cancelAcme(n2, m[1])
	if code, _, errb := tenantRun([]string{"KNHK_TOKEN=" + clusterToken}, "set", "--server", n3.url, "--trust", "vendor.key.pub", "acme"); code == 0 || !strings.Contains(errb, "before it had a trust directory") || !strings.Contains(errb, "old.knhk") {
		t.Fatalf("a trust directory that refuses acme's deployed program: %d %s", code, errb)
	}
	os.MkdirAll(filepath.Join(dir, "acme-trust"), 0o755)
	mustIn("sign", "--key", "vendor.key", "old.knhk")
	for _, f := range []string{"vendor.key.pub", "old.knhk.sig"} {
		b, _ := os.ReadFile(filepath.Join(dir, f))
		os.WriteFile(filepath.Join(dir, "acme-trust", f), b, 0o644)
	}
	admin("set", "--server", n3.url, "--trust", "acme-trust", "acme")
	for name, p := range procs {
		waitLong(t, "acme's trust directory on "+name, func() bool {
			_, err := os.Stat(filepath.Join(dir, "d-"+name, "tenants", "acme", "trust", "old.knhk.sig"))
			return err == nil
		})
		waitLong(t, "acme's start through "+name+" under its trust directory", func() bool {
			code, _, _ := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + acme}, "cluster", "--server", p.url, "start", "t-"+name, "--workflow", "Hold", "--input", `"t"`)
			return code == 0
		})
		cancelAcme(p, "t-"+name)
	}
	for name, p := range procs {
		// A node reopens the group with its new trust directory in the
		// background (tenant.Host's reopen), so it may be closed for a
		// moment: wait for it to answer, then it must not be broken.
		var st *cluster.Status
		waitLong(t, "acme's group on "+name+" to answer", func() bool {
			var ok bool
			st, ok = groupStatus(t, p, "acme")
			return ok
		})
		if st.Broken != "" {
			t.Fatalf("acme's group on %s after its trust directory: %+v", name, st)
		}
	}

	// delta is onboarded through n3 with a trust directory: its group
	// opens with it on every node, and an unsigned deploy is refused
	// through each of them; one signed by the trusted key runs.
	delta := admin("create", "--server", n3.url, "--trust", "vendor.key.pub", "--policy", "hybrid", "delta")
	for name, p := range procs {
		waitLong(t, "delta's unsigned deploy refused through "+name, func() bool {
			code, _, errb := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + delta}, "run", "--server", p.url, "--workflow", "Hold", "--input-json", `"u"`, "v2.knhk")
			if code == 0 {
				t.Fatalf("delta's unsigned deploy through %s ran", name)
			}
			return strings.Contains(errb, "is unsigned")
		})
	}
	mustIn("sign", "--key", "vendor.key", "v2.knhk")
	if code, _, errb := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + delta}, "run", "--server", n2.url, "--workflow", "Hold", "--input-json", `"s"`, "v2.knhk"); code != 0 {
		t.Fatalf("delta's signed deploy through n2: %s", errb)
	}
	if out := admin("list", "--server", n1.url); !regexp.MustCompile(`delta .*trust`).MatchString(out) {
		t.Fatalf("list after delta:\n%s", out)
	}
	os.Remove(filepath.Join(dir, "v2.knhk.sig"))

	// Crypto-shredding: gamma's group is sealed at rest on every node;
	// its erasure through one node has every node destroy its key and
	// its copy, and gamma's data reads back from no node.
	const secret = "gamma-secret-77"
	gamma := admin("create", "--server", n1.url, "--encrypt", "gamma")
	waitLong(t, "gamma's start through n2", func() bool {
		code, _, _ := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + gamma}, "cluster", "--server", n2.url, "start", "g1", "--workflow", "Hold", "--input", `"`+secret+`"`)
		return code == 0
	})
	waitLong(t, "gamma's case to take its signal", func() bool {
		if code, body := n3.get(t, "/cluster/v1/cases/g1", gamma); code == http.StatusOK && strings.Contains(body, secret) {
			return true
		}
		knhkEnv(t, dir, []string{"KNHK_TOKEN=" + gamma}, "signal", "--server", n3.url, "g1", "Approve", `{"by":"ann"}`)
		return false
	})
	for name, p := range procs {
		waitLong(t, "gamma's result on "+name, func() bool {
			code, body := p.get(t, "/cluster/v1/cases/g1?consistency=stale", gamma)
			return code == http.StatusOK && strings.Contains(body, secret) && strings.Contains(body, `"node":"`+name+`"`)
		})
		filepath.WalkDir(filepath.Join(dir, "d-"+name, "cluster", name, "tenants", "gamma"), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if b, _ := os.ReadFile(p); strings.Contains(string(b), secret) {
					t.Errorf("%s holds gamma's data in clear", p)
				}
			}
			return nil
		})
	}
	// acme was written without encryption: its erasure is refused.
	if code, _, errb := tenantRun([]string{"KNHK_TOKEN=" + clusterToken}, "erase", "--server", n2.url, "acme"); code == 0 || !strings.Contains(errb, "written without encryption") {
		t.Fatalf("erasing acme: %d %s", code, errb)
	}
	if code, _, errb := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + acme}, "case", "erase", "--server", n1.url, "a1"); code == 0 || !strings.Contains(errb, "only a tenant created with --encrypt can erase a case") {
		t.Fatalf("erasing acme's case a1: %d %s", code, errb)
	}
	if code, out, errb := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + gamma}, "case", "erase", "--server", n3.url, "--tenant", "gamma", "--all"); code != 0 {
		t.Fatalf("erasing gamma: %d %s %s", code, out, errb)
	}
	for name, p := range procs {
		waitLong(t, "gamma shredded on "+name, func() bool {
			_, err := os.Stat(filepath.Join(dir, "d-"+name, "cluster", name, "tenants", "gamma"))
			return os.IsNotExist(err)
		})
		code, body := p.get(t, "/cluster/v1/cases/g1?consistency=stale", gamma)
		if code == http.StatusOK || strings.Contains(body, secret) || !strings.Contains(body, "tenant gamma does not exist") {
			t.Fatalf("gamma's case on %s after the erasure: %d %s", name, code, body)
		}
	}
	if out := admin("list", "--server", n2.url); !strings.Contains(out, "gamma") {
		t.Fatalf("list after the erasure:\n%s", out)
	}

	// The founding node dies: the other two still administer tenants.
	procs["n1"].cmd.Process.Signal(syscall.SIGKILL)
	procs["n1"].cmd.Wait()
	delete(procs, "n1")
	beta := admin("create", "--server", n3.url, "beta")
	admin("suspend", "--server", n2.url, "acme")
	waitLong(t, "beta's group led by a live node", func() bool {
		for _, p := range procs {
			if st, ok := groupStatus(t, p, "beta"); ok && st.Leader != "" && procs[st.Leader] != nil {
				return true
			}
		}
		return false
	})
	waitLong(t, "beta's start through n2", func() bool {
		code, _, _ := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + beta}, "cluster", "--server", n2.url, "start", "b1", "--workflow", "Hold", "--input", `"b1"`)
		return code == 0
	})
	waitLong(t, "acme suspended on n2", func() bool {
		_, body := connectCall(t, n2.url, "ListCases", acme, `{}`)
		return strings.Contains(body, "tenant acme is suspended")
	})
	admin("delete", "--server", n2.url, "acme")
	waitLong(t, "acme gone on n3", func() bool {
		_, body := connectCall(t, n3.url, "ListCases", acme, `{}`)
		return strings.Contains(body, "tenant acme does not exist")
	})

	// Every live node lists the same registry at the same revision.
	list := func(p *serveProc) tenantListAnswer {
		code, body := p.get(t, tenantsPath, clusterToken)
		var ans tenantListAnswer
		if code != http.StatusOK || json.Unmarshal([]byte(body), &ans) != nil {
			t.Fatalf("GET %s: %d %s", tenantsPath, code, body)
		}
		ans.Node = ""
		for _, lt := range ans.Tenants {
			if lt.State != "deleted" && !strings.HasPrefix(lt.Group, "led by ") {
				return tenantListAnswer{} // its group is not up on p (yet)
			}
			lt.Group = "" // as p sees it: its leader and members, which move
		}
		return ans
	}
	waitLong(t, "the same registry on n2 and n3", func() bool { l := list(n2); return l.Rev != 0 && reflect.DeepEqual(l, list(n3)) })
	if l := list(n2); len(l.Tenants) != 5 || l.Tenants[0].ID != "acme" || l.Tenants[0].State != "deleted" || l.Tenants[1].ID != "beta" || l.Tenants[1].State != "active" ||
		l.Tenants[2].ID != "delta" || l.Tenants[2].Policy != "hybrid" || l.Tenants[3].ID != "gamma" || l.Tenants[3].Erased.IsZero() || l.Tenants[4].ID != "retried" || procs[l.Tenants[1].Founder] == nil {
		t.Fatalf("the registry: %+v", l.Tenants)
	}
	// No private key is replicated: each node signs with its own key,
	// kept outside the replicated directory.
	for _, n := range []string{"d-n1", "d-n2", "d-n3"} {
		filepath.WalkDir(filepath.Join(dir, n, "tenants"), func(p string, d os.DirEntry, err error) error {
			if err == nil && strings.HasSuffix(p, ".key") {
				t.Errorf("a private key in the replicated copy: %s", p)
			}
			return nil
		})
	}
}
