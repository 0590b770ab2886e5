// This file tests the audit of a raft cluster as processes on loopback:
// three nodes with --tenants, actions through different nodes, and the
// audit export of every node: the same chain, which knhk audit verify
// --evidence checks offline; a tampered export fails, and a non-admin's
// export is refused.

package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/runtime/sign"
)

func TestClusterAuditProcesses(t *testing.T) {
	dir := tenantClusterDir(t)
	procs, stop := tenantNodes(t, dir, 3)
	defer stop()
	n1, n2, n3 := procs["n1"], procs["n2"], procs["n3"]
	as := func(tok string, args ...string) (int, string, string) {
		t.Helper()
		return knhkEnv(t, dir, []string{"KNHK_TOKEN=" + tok}, args...)
	}

	// Actions through different nodes: a tenant created through n2, a
	// case started through n3 and signalled through n1, a viewer token
	// issued through n1.
	code, acme, errb := as(clusterToken, "tenant", "create", "--server", n2.url, "acme")
	if code != 0 {
		t.Fatalf("create: %s", errb)
	}
	acme = strings.TrimSpace(acme)
	waitLong(t, "acme's group on three voters", func() bool {
		st, ok := groupStatus(t, n3, "acme")
		return ok && st.Leader != "" && voters(st) == 3
	})
	if code, _, errb := as(acme, "cluster", "--server", n3.url, "start", "a1", "--workflow", "Hold", "--input", `"a1"`); code != 0 {
		t.Fatalf("acme's start through n3: %s", errb)
	}
	waitLong(t, "acme's signal through n1", func() bool {
		code, out, _ := as(acme, "signal", "--server", n1.url, "a1", "Approve", `{"by":"ann"}`)
		return code == 0 && strings.TrimSpace(out) == `"a1 by ann"`
	})
	code, viewer, errb := as(clusterToken, "tenant", "token", "--server", n1.url, "--role", "viewer", "acme")
	if code != 0 || !regexp.MustCompile(`token id \S+`).MatchString(errb) {
		t.Fatalf("token: %d %s", code, errb)
	}
	viewer = strings.TrimSpace(viewer)
	forgeForwarded(t, []*serveProc{n1, n2, n3}, acme) // auditforward_proc_test.go

	// A non-admin's export is refused, through any node.
	waitLong(t, "the viewer token on n2", func() bool {
		code, _ := connectCall(t, n2.url, "ListCases", viewer, `{}`)
		return code == http.StatusOK
	})
	if code, _, errb := as(viewer, "audit", "export", "--server", n2.url); code == 0 || !strings.Contains(errb, "role viewer may not export the audit log (needs admin)") {
		t.Fatalf("a viewer's export: %d %s", code, errb)
	}

	// Every node's export is the same chain once they applied the same
	// entries, and it holds each action once.
	export := func(p *serveProc, format, file string) {
		t.Helper()
		exportAudit(t, as, p.url, format, file) // auditproc_test.go
	}
	read := func(file string) *audit.Evidence { return readEvidence(t, dir, file) }
	actions := func(ev *audit.Evidence) string { return auditActions(ev, actionResult) }
	var evs []*audit.Evidence
	defer func() {
		if t.Failed() {
			for i, ev := range evs {
				t.Logf("export %d:\n%s", i+1, actions(ev))
			}
		}
	}()
	waitLong(t, "the same audit chain on every node", func() bool {
		evs = nil
		for _, id := range []string{"n1", "n2", "n3"} {
			export(procs[id], "json", id+".json")
			evs = append(evs, read(id+".json"))
		}
		a := actions(evs[0])
		return strings.Count(a, "knhk tenant create ok") == 1 && strings.Count(a, "POST /cluster/v1/cases ok") == 1 && strings.Contains(a, "SignalCase ok") &&
			strings.Contains(a, "StartCase ok") &&
			strings.Count(a, "knhk tenant token ok") == 1 &&
			reflect.DeepEqual(evs[0].Records, evs[1].Records) && reflect.DeepEqual(evs[0].Records, evs[2].Records)
	})
	started := false
	for _, e := range evs[0].Records {
		started = started || e.Record != nil && e.Record.Action == "POST /cluster/v1/cases"
		if r := e.Record; r != nil && r.Action == "POST /cluster/v1/cases" && (r.Tenant != "acme" || r.Role != "admin" || r.Remote == "") {
			t.Fatalf("the start's record: %+v", r)
		}
	}
	if !started {
		t.Fatal("no record of the start")
	}
	checkForged(t, evs[0])
	// Reads stay in the node that answered them, and say so.
	if strings.Contains(actions(evs[0]), "ListCases") {
		t.Fatalf("a read in the cluster's chain:\n%s", actions(evs[0]))
	}
	if code, out, errb := as(clusterToken, "audit", "export", "--server", n2.url, "--node-local"); code != 0 || !strings.Contains(out, "ListCases") || !strings.Contains(out, "node-local: answered by node n2") {
		t.Fatalf("n2's own log: %d %s\n%s", code, errb, out)
	}

	// An auditor verifies each export offline, the HTML one included.
	export(n3, "html", "n3.html")
	export(n2, "csv", "n2.csv")
	if b, _ := os.ReadFile(filepath.Join(dir, "n2.csv")); !strings.Contains(string(b), "knhk tenant create") {
		t.Fatalf("the csv export:\n%s", b)
	}
	for _, f := range []string{"n1.json", "n2.json", "n3.html"} {
		code, out, errb := knhkEnv(t, dir, nil, "audit", "verify", "--evidence", f)
		if code != 0 || !strings.Contains(out, "audit records verified") {
			t.Fatalf("verify %s: %d %s %s", f, code, out, errb)
		}
	}
	if code, out, _ := knhkEnv(t, dir, nil, "audit", "verify", "--evidence", "n2.json"); code != 0 || !strings.Contains(out, "head "+evs[0].Found.Head.String()) {
		t.Fatalf("verify names no head: %s", out)
	}
	// Anchored: each export's records are proved in the Merkle tree of
	// the chain, whose head the exporting node signed with its own key;
	// an auditor trusts the nodes' audit.pub files.
	if err := os.Mkdir(filepath.Join(dir, "nodekeys"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"n1", "n2", "n3"} {
		b, err := os.ReadFile(filepath.Join(dir, "d-"+id, "cluster", id, "audit.pub"))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "nodekeys", id+".pub"), b, 0o644)
	}
	for _, f := range []string{"n1.json", "n3.html"} {
		code, out, errb := knhkEnv(t, dir, nil, "audit", "verify", "--evidence", f, "--trust", "nodekeys")
		if code != 0 || !regexp.MustCompile(`every record is proved in the Merkle tree of \d+ records, root \S+, whose head node n\d signed with key \S+`).MatchString(out) {
			t.Fatalf("verify %s with the nodes' keys: %d %s %s", f, code, out, errb)
		}
	}
	// The exporting node's head is cosigned by the other nodes, each
	// from its own replica: all three keys signed it.
	waitLong(t, "an export cosigned by every node", func() bool {
		export(n2, "json", "cosigned.json")
		code, out, _ := knhkEnv(t, dir, nil, "audit", "verify", "--evidence", "cosigned.json", "--trust", "nodekeys", "--signers", "3")
		return code == 0 && strings.Contains(out, "signed by 3 trusted node(s): n2, n1, n3")
	})
	os.Mkdir(filepath.Join(dir, "onekey"), 0o755)
	b1, _ := os.ReadFile(filepath.Join(dir, "nodekeys", "n2.pub"))
	os.WriteFile(filepath.Join(dir, "onekey", "n2.pub"), b1, 0o644)
	if code, _, errb := knhkEnv(t, dir, nil, "audit", "verify", "--evidence", "cosigned.json", "--trust", "onekey", "--signers", "2"); code == 0 || !strings.Contains(errb, "does not verify") {
		t.Fatalf("cosigned heads by keys not trusted: %d %s", code, errb)
	}
	if code, _, errb := knhkEnv(t, dir, nil, "audit", "verify", "--evidence", "cosigned.json", "--signers", "2"); code == 0 || !strings.Contains(errb, "with --evidence and --trust") {
		t.Fatalf("--signers without --trust: %d %s", code, errb)
	}
	anchoredTampering(t, dir, read("n1.json"))

	// acme's admin gets acme's records in clear, the others as digests
	// of the same chain.
	checkTenantExport(t, dir, as, n1.url, "acme", acme, evs[0])
	// A record changed in an export breaks the chain there.
	b, _ := os.ReadFile(filepath.Join(dir, "n1.json"))
	bad := strings.Replace(string(b), `"action": "knhk tenant create"`, `"action": "knhk tenant delete"`, 1)
	if bad == string(b) {
		bad = strings.Replace(string(b), `"action":"knhk tenant create"`, `"action":"knhk tenant delete"`, 1)
	}
	if bad == string(b) {
		t.Fatal("no tenant create record to tamper with")
	}
	os.WriteFile(filepath.Join(dir, "bad.json"), []byte(bad), 0o644)
	if code, _, errb := knhkEnv(t, dir, nil, "audit", "verify", "--evidence", "bad.json"); code == 0 || !strings.Contains(errb, "first bad record") || !strings.Contains(errb, "it was changed") {
		t.Fatalf("a tampered export: %d %s", code, errb)
	}
}

// anchoredTampering writes ev changed in each way the tree catches, the
// chain recomputed so that it alone would verify, and has knhk audit
// verify --trust nodekeys refuse each.
func anchoredTampering(t *testing.T, dir string, ev *audit.Evidence) {
	t.Helper()
	// rechain makes ev's chain verify again, as a forger would: the
	// records linked anew and the report rebuilt, its tree kept.
	rechain := func(ev *audit.Evidence) {
		recs := make([]audit.Record, len(ev.Records))
		for i := range recs {
			recs[i] = *ev.Records[i].Record
			recs[i].Seq, recs[i].Prev = uint64(i), recs[max(i, 1)-1].Hash
			if i == 0 {
				recs[i].Prev = audit.Digest{}
			}
			recs[i].Hash = recs[i].ComputeHash()
		}
		tree := ev.Tree
		*ev = *audit.EvidenceOf(recs, ev.Scope, audit.CollectOptions{})
		ev.Tree = tree
	}
	b, _ := json.Marshal(ev)
	for _, tc := range []struct {
		name, want string
		edit       func(ev *audit.Evidence)
	}{
		{"rewritten", "is not record 1 of the signed tree head's tree", func(ev *audit.Evidence) {
			ev.Records[1].Record.Subject = "mallory"
			rechain(ev)
		}},
		{"reordered", "is not record 0 of the signed tree head's tree", func(ev *audit.Evidence) {
			ev.Records[0], ev.Records[1] = ev.Records[1], ev.Records[0]
			rechain(ev)
		}},
		{"truncated", "records were removed or added", func(ev *audit.Evidence) {
			n := len(ev.Records) - 1
			ev.Records, ev.Tree.Proofs = ev.Records[:n], ev.Tree.Proofs[:n]
		}},
		{"forged", "which is not trusted", func(ev *audit.Evidence) {
			ev.Records[1].Record.Subject = "mallory"
			rechain(ev)
			k, err := sign.Generate(sign.MLDSA65Ed25519)
			if err != nil {
				t.Fatal(err)
			}
			if err := audit.AnchorTree(ev, "n1", ev.Tree.Head.Applied, time.Now(), k); err != nil {
				t.Fatal(err)
			}
		}},
		{"unanchored", "has no signed tree head", func(ev *audit.Evidence) { ev.Tree = nil }},
	} {
		var c audit.Evidence
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		tc.edit(&c)
		var out bytes.Buffer
		audit.WriteJSON(&out, &c)
		f := "tree-" + tc.name + ".json"
		os.WriteFile(filepath.Join(dir, f), out.Bytes(), 0o644)
		if code, _, errb := knhkEnv(t, dir, nil, "audit", "verify", "--evidence", f, "--trust", "nodekeys"); code == 0 || !strings.Contains(errb, tc.want) {
			t.Fatalf("a %s export: %d %s", tc.name, code, errb)
		}
	}
}
