// This file tests the metering, signed deploys and replay protection
// of knhk serve --node --tenants as processes on loopback, two nodes
// each: a signed usage report of a tenant's month made from one node
// verifies offline and reconciles exactly with the tenant's replicated
// log on the other, at the raft index it was counted at, even once the
// log has moved on (a tampered report, another key, another tenant's
// token, counts the log does not hold or an index beyond the log are
// each refused, naming why); a
// tenant with a trust directory deploys only signed programs; and a
// request captured on one node is refused when replayed to the other.

package main

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/meter"
)

// twoNodeTenants starts a two-node cluster with --tenants in dir (its
// app.knhk and token written: tenantClusterDir) and waits until it has
// two voters and every tenant of ids has a group of two voters with a
// leader. stop kills the nodes still in procs.
func twoNodeTenants(t *testing.T, dir string, ids ...string) (procs map[string]*serveProc, stop func()) {
	return tenantNodes(t, dir, 2, ids...)
}

// tenantNodes is twoNodeTenants with n nodes, n1 to nN.
func tenantNodes(t *testing.T, dir string, n int, ids ...string) (procs map[string]*serveProc, stop func()) {
	t.Helper()
	return tenantNodesWith(t, dir, n, nil, ids...)
}

// tenantNodesWith is tenantNodes with the flags extra given to every
// node.
func tenantNodesWith(t *testing.T, dir string, n int, extra []string, ids ...string) (procs map[string]*serveProc, stop func()) {
	t.Helper()
	procs = map[string]*serveProc{}
	stop = func() {
		for _, p := range procs {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	}
	n1 := startServe(t, dir, "d-n1", append(append([]string{"--node", "n1", "--raft", "127.0.0.1:0", "--tenants", "--token-file", "token"}, extra...), "app.knhk")...)
	procs["n1"] = n1
	for i := 2; i <= n; i++ {
		id := fmt.Sprintf("n%d", i)
		procs[id] = startServe(t, dir, "d-"+id, append(append([]string{"--node", id, "--raft", "127.0.0.1:0", "--tenants", "--token-file", "token", "--join", n1.url}, extra...), "app.knhk")...)
	}
	waitLong(t, fmt.Sprintf("%d voters", n), func() bool {
		code, body := n1.get(t, cluster.StatusPath, clusterToken)
		var st cluster.Status
		return code == http.StatusOK && json.Unmarshal([]byte(body), &st) == nil && voters(&st) == n
	})
	for _, id := range ids {
		// Every node must know the group's leader: a node that does
		// not yet answers a tenant's call (forwarded) as unavailable.
		waitLong(t, fmt.Sprintf("%d voters in %s's group, its leader known to every node", n, id), func() bool {
			for _, p := range procs {
				if st, ok := groupStatus(t, p, id); !ok || st.Leader == "" || voters(st) != n {
					return false
				}
			}
			return true
		})
	}
	return procs, stop
}

// resignReport writes to out the usage report in, edited by edit and
// signed again with dir's operator.key: a report the operator signed
// that the log may not hold. It returns out.
func resignReport(t *testing.T, dir, in, out string, edit func(*meter.Usage)) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, in))
	if err != nil {
		t.Fatal(err)
	}
	r, err := meter.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	k, err := readPrivateKey(filepath.Join(dir, "operator.key"))
	if err != nil {
		t.Fatal(err)
	}
	u := r.Usage
	edit(&u)
	if b, err = meter.Sign(k, u); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, out), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// tamperReport rewrites old to new inside the signed JSON of the usage
// report file path, keeping its signature, and returns the file's new
// path.
func tamperReport(t *testing.T, path, old, new string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, rest := pem.Decode(b)
	if blk == nil || !bytes.Contains(blk.Bytes, []byte(old)) {
		t.Fatalf("no %q in the report %s", old, path)
	}
	blk.Bytes = bytes.Replace(blk.Bytes, []byte(old), []byte(new), 1)
	out := path + ".tampered"
	if err := os.WriteFile(out, append(pem.EncodeToMemory(blk), rest...), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestClusterUsageReportProcesses(t *testing.T) {
	dir := tenantClusterDir(t)
	must := mustKnhkIn(t, dir)
	must("keygen", "--alg", "mldsa65-ed25519", "-o", "operator.key")
	must("keygen", "--alg", "mldsa65-ed25519", "-o", "other.key")
	acme := must("tenant", "create", "--data", "d-n1", "acme")
	beta := must("tenant", "create", "--data", "d-n1", "beta")
	procs, stop := twoNodeTenants(t, dir, "acme", "beta")
	defer stop()
	as := func(tok string, args ...string) (int, string, string) {
		t.Helper()
		return knhkEnv(t, dir, []string{"KNHK_TOKEN=" + tok}, args...)
	}

	// acme runs a case to its end through n2, and starts one more.
	if code, _, errb := as(acme, "cluster", "--server", procs["n2"].url, "start", "a1", "--workflow", "Hold", "--input", `"a1"`); code != 0 {
		t.Fatalf("acme's start: %s", errb)
	}
	waitLong(t, "acme's signal", func() bool {
		code, out, _ := as(acme, "signal", "--server", procs["n1"].url, "a1", "Approve", `{"by":"ann"}`)
		return code == 0 && strings.TrimSpace(out) == `"a1 by ann"`
	})
	if code, _, errb := as(acme, "cluster", "--server", procs["n1"].url, "start", "a2", "--workflow", "Hold", "--input", `"a2"`); code != 0 {
		t.Fatalf("acme's second start: %s", errb)
	}
	// The report is made from n1 as soon as n1 has applied acme's second
	// start, and verified at n2 at once, which may not have applied it
	// yet: the report names the raft index it was counted at, and n2
	// waits until it has applied that index.
	waitLong(t, "acme's second case on n1", func() bool {
		_, b := procs["n1"].get(t, usagePath, acme)
		return strings.Contains(b, `"cases":2`)
	})

	// The report, made from n1's replica with acme's token, names acme.
	if code, _, errb := as(acme, "usage", "report", "--key", "operator.key", "--customer", "acme-inc", "--server", procs["n1"].url, "-o", "acme.usage"); code != 0 {
		t.Fatalf("usage report --server: %s", errb)
	}
	// Reconciled with acme's log as n2 holds it.
	code, out, errb := as(acme, "usage", "verify", "--trust", "operator.key.pub", "--server", procs["n2"].url, "acme.usage")
	if code != 0 || !strings.Contains(out, "reconciled with the replicated log at "+procs["n2"].url) || !strings.Contains(out, "counted at:    raft index ") {
		t.Fatalf("verify --server n2: %d %q %q", code, out, errb)
	}
	// Offline: the signature, nothing else.
	code, out, errb = knhkProc(t, dir, "usage", "verify", "--trust", "operator.key.pub", "acme.usage")
	if code != 0 || !strings.Contains(out, "tenant:        acme") || !strings.Contains(out, "cases:         2") || strings.Contains(out, "reconciled") {
		t.Fatalf("offline verify: %d %q %q", code, out, errb)
	}

	// A report claiming fewer cases than it was signed with.
	bad := tamperReport(t, filepath.Join(dir, "acme.usage"), `"cases":2`, `"cases":1`)
	if code, _, errb := knhkProc(t, dir, "usage", "verify", "--trust", "operator.key.pub", bad); code == 0 || !strings.Contains(errb, "tampered") {
		t.Fatalf("tampered report: %d %q", code, errb)
	}
	// Another key's report, or the right report checked against another
	// key.
	if code, _, errb := knhkProc(t, dir, "usage", "verify", "--trust", "other.key.pub", "acme.usage"); code == 0 || !strings.Contains(errb, "usage report:") {
		t.Fatalf("verify with another key: %d %q", code, errb)
	}
	// beta's token reads beta's log: acme's report is not reconciled
	// against it, nor can beta make a report that names acme.
	if code, _, errb := as(beta, "usage", "verify", "--trust", "operator.key.pub", "--server", procs["n1"].url, "acme.usage"); code == 0 || !strings.Contains(errb, "the report is for tenant acme, but the token reads tenant beta") {
		t.Fatalf("acme's report with beta's token: %d %q", code, errb)
	}
	if code, _, errb := as(beta, "usage", "report", "--key", "operator.key", "--customer", "x", "--tenant", "acme", "--server", procs["n2"].url, "-o", "x.usage"); code == 0 || !strings.Contains(errb, "token reads tenant beta") {
		t.Fatalf("beta's report for acme: %d %q", code, errb)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.usage")); !os.IsNotExist(err) {
		t.Fatalf("a refused report was written: %v", err)
	}
	// The cluster's own cases (its --token-file token): a report that
	// names no tenant, which acme's token does not reconcile.
	if code, _, errb := as(clusterToken, "usage", "report", "--key", "operator.key", "--customer", "ops", "--server", procs["n2"].url, "-o", "own.usage"); code != 0 {
		t.Fatalf("the cluster's own report: %s", errb)
	}
	if code, out, errb := as(clusterToken, "usage", "verify", "--trust", "operator.key.pub", "--server", procs["n1"].url, "own.usage"); code != 0 || strings.Contains(out, "tenant:") {
		t.Fatalf("the cluster's own report, verified: %d %q %q", code, out, errb)
	}
	if code, _, errb := as(acme, "usage", "verify", "--trust", "operator.key.pub", "--server", procs["n1"].url, "own.usage"); code == 0 || !strings.Contains(errb, "the report is of the cluster's own cases (no tenant), but the token reads tenant acme") {
		t.Fatalf("the cluster's report with acme's token: %d %q", code, errb)
	}
	// No token: refused by the node, not counted.
	if code, _, errb := knhkProc(t, dir, "usage", "verify", "--trust", "operator.key.pub", "--server", procs["n1"].url, "acme.usage"); code == 0 || !strings.Contains(errb, "usage from") {
		t.Fatalf("verify --server without a token: %d %q", code, errb)
	}
	// acme's log moves on within the month: the report still reconciles
	// on either node, counted as of its raft index, while a new report
	// counts the third case.
	if code, _, errb := as(acme, "cluster", "--server", procs["n2"].url, "start", "a3", "--workflow", "Hold", "--input", `"a3"`); code != 0 {
		t.Fatalf("acme's third start: %s", errb)
	}
	waitLong(t, "the third case on n1", func() bool {
		_, b := procs["n1"].get(t, usagePath, acme)
		return strings.Contains(b, `"cases":3`)
	})
	for _, n := range []string{"n1", "n2"} {
		if code, out, errb := as(acme, "usage", "verify", "--trust", "operator.key.pub", "--server", procs[n].url, "acme.usage"); code != 0 || !strings.Contains(out, "cases:         2") {
			t.Fatalf("verify on %s after a new case: %d %q %q", n, code, out, errb)
		}
	}
	if code, _, errb := as(acme, "usage", "report", "--key", "operator.key", "--customer", "acme-inc", "--server", procs["n2"].url, "-o", "acme3.usage"); code != 0 {
		t.Fatalf("the second report: %s", errb)
	}
	if code, out, errb := as(acme, "usage", "verify", "--trust", "operator.key.pub", "--server", procs["n1"].url, "acme3.usage"); code != 0 || !strings.Contains(out, "cases:         3") {
		t.Fatalf("the second report, verified on n1: %d %q %q", code, out, errb)
	}
	// A report signed by the operator's key whose counts the log does
	// not hold at its index does not reconcile, naming the field.
	forged := resignReport(t, dir, "acme.usage", "forged.usage", func(u *meter.Usage) { u.Cases++ })
	if code, _, errb := as(acme, "usage", "verify", "--trust", "operator.key.pub", "--server", procs["n2"].url, forged); code == 0 || !strings.Contains(errb, "does not reconcile") || !strings.Contains(errb, "cases: report 3, log 2") {
		t.Fatalf("a report with one case too many: %d %q", code, errb)
	}
	// A report counted at an index beyond the log: refused by either
	// node (leader or follower) as such, not waited on for ever.
	beyond := resignReport(t, dir, "acme.usage", "beyond.usage", func(u *meter.Usage) { u.AppliedIndex += 1 << 40 })
	for _, n := range []string{"n1", "n2"} {
		if code, _, errb := as(acme, "usage", "verify", "--trust", "operator.key.pub", "--server", procs[n].url, beyond); code == 0 || !strings.Contains(errb, "beyond the cluster's log") {
			t.Fatalf("a report beyond the log, on %s: %d %q", n, code, errb)
		}
	}
	// A cluster's report is not reconciled with a data directory.
	if code, _, errb := knhkProc(t, dir, "usage", "verify", "--trust", "operator.key.pub", "--data", "d-n1", "acme.usage"); code == 0 || !strings.Contains(errb, "reconcile it with --server NODE") {
		t.Fatalf("a cluster's report against --data: %d %q", code, errb)
	}
	if code, _, errb := knhkProc(t, dir, "usage", "report", "--key", "operator.key", "--customer", "c", "--server", procs["n1"].url, "--data", "d-n1"); code != 1 || !strings.Contains(errb, "not both") {
		t.Fatalf("--server with --data: %d %q", code, errb)
	}
}

// TestClusterSignedDeployProcesses serves gamma, a tenant that admits
// only signed deploys, on two nodes: a deploy signed by its trusted key
// runs through either node and reaches both replicas; an unsigned one,
// one signed by another key and a tampered signature are refused
// through either node, naming why, and deploy nothing.
func TestClusterSignedDeployProcesses(t *testing.T) {
	dir := tenantClusterDir(t)
	v2 := strings.Replace(clusterSource, `id + " by " + by`, `id + " approved by " + by`, 1)
	os.WriteFile(filepath.Join(dir, "v2.knhk"), []byte(v2), 0o666)
	must := mustKnhkIn(t, dir)
	must("keygen", "--alg", "mldsa65-ed25519", "-o", "vendor.key")
	must("keygen", "--alg", "mldsa65-ed25519", "-o", "other.key")
	gamma := must("tenant", "create", "--data", "d-n1", "--trust", "vendor.key.pub", "gamma")
	procs, stop := twoNodeTenants(t, dir, "gamma")
	defer stop()
	run := func(p *serveProc, in string) (int, string) {
		t.Helper()
		code, _, errb := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + gamma}, "run", "--server", p.url, "--workflow", "Hold", "--input-json", in, "v2.knhk")
		return code, errb
	}
	programs := func(p *serveProc) string {
		_, body := connectCall(t, p.url, "ListPrograms", gamma, `{}`)
		return body
	}
	sigFile := filepath.Join(dir, "v2.knhk.sig")
	for _, c := range []struct {
		what, key, want string
		tamper          bool
	}{
		{"unsigned", "", "is unsigned", false},
		{"signed by another key", "other.key", "the signature sent with it: untrusted", false},
		{"a tampered signature", "vendor.key", "the signature sent with it", true},
	} {
		os.Remove(sigFile)
		if c.key != "" {
			must("sign", "--key", c.key, "v2.knhk")
		}
		if c.tamper {
			b, _ := os.ReadFile(sigFile)
			blk, _ := pem.Decode(b)
			blk.Bytes[len(blk.Bytes)/2] ^= 1
			os.WriteFile(sigFile, pem.EncodeToMemory(blk), 0o644)
		}
		for name, p := range procs {
			if code, errb := run(p, `"x"`); code == 0 || !strings.Contains(errb, c.want) || !strings.Contains(errb, "refused") && c.key != "" {
				t.Fatalf("%s through %s: %d %q, want %q", c.what, name, code, errb, c.want)
			}
		}
	}
	for name, p := range procs {
		if body := programs(p); strings.Count(body, `"hash"`) != 1 {
			t.Fatalf("refused deploys listed on %s: %s", name, body)
		}
	}
	// Signed by the trusted key: deployed through n2, on both replicas,
	// and its cases run it.
	os.Remove(sigFile)
	must("sign", "--key", "vendor.key", "v2.knhk")
	code, errb := run(procs["n2"], `"g1"`)
	if code != 0 || !strings.Contains(errb, "waiting for signal Approve") {
		t.Fatalf("the signed deploy: %d %q", code, errb)
	}
	for name, p := range procs {
		waitLong(t, "the signed program on "+name, func() bool { return strings.Count(programs(p), `"hash"`) == 2 })
	}
	m := regexp.MustCompile(`case (\S+)`).FindStringSubmatch(errb)
	if m == nil {
		t.Fatalf("no case in %q", errb)
	}
	if code, out, errb := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + gamma}, "signal", "--server", procs["n1"].url, m[1], "Approve", `{"by":"ann"}`); code != 0 || strings.TrimSpace(out) != `"g1 approved by ann"` {
		t.Fatalf("the signed program's case: %d %q %q", code, out, errb)
	}
}

// TestClusterReplayProcesses captures a call that started acme's case
// on the leader of acme's group, nonce and all, and sends the same
// bytes again: to another node while the leader leads (its guard
// refuses it when the call is forwarded), and, once the leader is
// killed, straight to the new leader, whose own guard never saw it: the
// group's log has its nonce, so it is refused there too, and acme has
// one case, not two.
func TestClusterReplayProcesses(t *testing.T) {
	dir := tenantClusterDir(t)
	acme := mustKnhkIn(t, dir)("tenant", "create", "--data", "d-n1", "acme")
	procs, stop := tenantNodes(t, dir, 3, "acme")
	defer stop()
	leader := func() string { return groupLeader(t, procs, "acme") }
	// The captured call: its body and headers, as they went on the wire.
	body := `{"workflow":"Hold","inputJson":"\"r1\""}`
	hdr := http.Header{}
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Authorization", "Bearer "+acme)
	hdr.Set("Knhk-Nonce", "c2FtZS1ub25jZS1vbmNlLW9ubHk")
	hdr.Set("Knhk-Request-Time", strconv.FormatInt(time.Now().UnixMilli(), 10))
	send := func(p *serveProc) (int, string) {
		t.Helper()
		return postCall(t, p.url+"/knhk.v1.KnhkService/StartCase", hdr, body)
	}
	cases := func(p *serveProc) string {
		_, b := p.get(t, usagePath, acme)
		return b
	}
	lead := leader()
	if code, out := send(procs[lead]); code != http.StatusOK {
		t.Fatalf("the call on the leader %s: %d %s", lead, code, out)
	}
	// Had the lead moved before the call (a loaded machine), the node
	// forwarded it and the leader's own guard saw the nonce: then only
	// the refusal is asked below, not which guard made it.
	retried := false
	if st, ok := groupStatus(t, procs[lead], "acme"); !ok || st.Leader != lead {
		retried = true
	}
	// The leader goes; the new one's guard never saw the call, nor
	// any other survivor's.
	procs[lead].cmd.Process.Kill()
	procs[lead].cmd.Wait()
	delete(procs, lead)
	fresh := leader()
	waitLong(t, fresh+" to know it leads", func() bool {
		st, ok := groupStatus(t, procs[fresh], "acme")
		return ok && st.Leader == fresh
	})
	waitLong(t, "the replay to the new leader "+fresh+" refused", func() bool {
		code, out := send(procs[fresh])
		if code == http.StatusOK {
			t.Fatalf("the replay to %s after the failover started a case: %s", fresh, out)
		}
		if code == http.StatusServiceUnavailable {
			// The lead moved again; the node's guard has the nonce now.
			retried = true
			return false
		}
		if code != http.StatusUnauthorized || !strings.Contains(out, "replayed request") || !retried && !strings.Contains(out, "the cluster's log has it") {
			t.Fatalf("the replay to %s: %d %s", fresh, code, out)
		}
		return true
	})
	// Through the other survivor, which forwards it to the leader.
	for n, p := range procs {
		if n != fresh {
			if code, out := send(p); code == http.StatusOK || !strings.Contains(out, "replayed request") {
				t.Fatalf("the replay through %s: %d %s", n, code, out)
			}
		}
	}
	for n, p := range procs {
		waitLong(t, "one case of acme on "+n, func() bool { return strings.Contains(cases(p), `"cases":1,`) })
	}
	// A new call, with a fresh nonce, goes on.
	if code, _, errb := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + acme}, "cluster", "--server", procs[fresh].url, "start", "r2", "--workflow", "Hold", "--input", `"r2"`); code != 0 {
		t.Fatalf("a fresh call: %s", errb)
	}
}

// TestClusterNodeTrustProcesses runs knhk serve --node --trust DIR: the
// cluster's own deploys must be signed by a key in DIR (run --server
// sends FILE.sig); with --bft, --trust must name the genesis's deploy
// keys (clusterbftdeploy_proc_test.go), so it needs a validator home.
func TestClusterNodeTrustProcesses(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "app.knhk"), []byte(clusterSource), 0o666)
	os.WriteFile(filepath.Join(dir, "v2.knhk"), []byte(strings.Replace(clusterSource, `id + " by " + by`, `id + " signed off by " + by`, 1)), 0o666)
	must := mustKnhkIn(t, dir)
	must("keygen", "--alg", "mldsa65-ed25519", "-o", "vendor.key")
	must("keygen", "--alg", "ed25519", "-o", "other.key")
	os.Mkdir(filepath.Join(dir, "trust"), 0o755)
	pub, _ := os.ReadFile(filepath.Join(dir, "vendor.key.pub"))
	os.WriteFile(filepath.Join(dir, "trust", "vendor.pub"), pub, 0o644)
	if code, _, errb := knhkProc(t, dir, "serve", "--bft", "home", "--trust", "trust", "app.knhk"); code != 1 || !strings.Contains(errb, "home is not a validator home") {
		t.Fatalf("--bft --trust: %d %q", code, errb)
	}
	if code, _, errb := knhkProc(t, dir, "serve", "--node", "x", "--raft", "127.0.0.1:0", "--trust", "vendor.key.pub", "app.knhk"); code != 1 || !strings.Contains(errb, "want a directory") {
		t.Fatalf("--trust FILE: %d %q", code, errb)
	}
	p := startServe(t, dir, "d", "--node", "n1", "--raft", "127.0.0.1:0", "--trust", "trust", "app.knhk")
	defer p.stop(t, syscall.SIGTERM)
	waitLong(t, "a leader", func() bool { st, ok := clusterStatusOf(t, dir, p.url); return ok && st.Leader == "n1" })
	run := func() (int, string) {
		code, _, errb := knhkProc(t, dir, "run", "--server", p.url, "--workflow", "Hold", "--input-json", `"c1"`, "v2.knhk")
		return code, errb
	}
	if code, errb := run(); code == 0 || !strings.Contains(errb, "is unsigned") {
		t.Fatalf("unsigned: %d %q", code, errb)
	}
	must("sign", "--key", "other.key", "v2.knhk")
	if code, errb := run(); code == 0 || !strings.Contains(errb, "untrusted") {
		t.Fatalf("signed by another key: %d %q", code, errb)
	}
	os.Remove(filepath.Join(dir, "v2.knhk.sig"))
	must("sign", "--key", "vendor.key", "v2.knhk")
	if code, errb := run(); code != 0 || !strings.Contains(errb, "waiting for signal Approve") {
		t.Fatalf("signed: %d %q", code, errb)
	}
	// The node's own program needs no signature: the operator started
	// the node with it.
	if code, _, errb := knhkProc(t, dir, "run", "--server", p.url, "--workflow", "Hold", "--input-json", `"c2"`, "app.knhk"); code != 0 {
		t.Fatalf("the node's own program: %q", errb)
	}
}
