// This file tests the cluster's audit chain on knhk serve --bft
// --tenants as processes: four validators, actions through validators
// that do not drive, and every validator's export the same chain, which
// knhk audit verify --evidence checks offline against the validators'
// keys; a tampered, truncated or re-signed export fails, and a
// non-admin's export is refused.

package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/knhk/knhk/runtime/audit"
)

func TestBFTAuditProcesses(t *testing.T) {
	dir := licensedBFTNet(t, "unused.lic", "unused") // clusterbftlicence_proc_test.go
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(clusterToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	vs, stop := startValidators(t, dir, 4, "--token-file", "token", "--tenants")
	defer stop()
	t.Setenv("KNHK_TOKEN", clusterToken)
	driver := waitDriver(t, dir, vs) // clusterbft_proc_test.go

	other := func(k int) *serveProc { return vs[(driver+k)%4] } // k in 1..3: not the driver
	as := func(tok string, args ...string) (int, string, string) {
		t.Helper()
		return knhkEnv(t, dir, []string{"KNHK_TOKEN=" + tok}, args...)
	}
	// Actions through validators that do not drive: a tenant created, a
	// case of its space started and signalled, a case of the cluster's
	// own space started, a viewer token issued.
	code, acme, errb := as(clusterToken, "tenant", "create", "--server", other(1).url, "acme")
	if code != 0 {
		t.Fatalf("create: %s", errb)
	}
	acme = strings.TrimSpace(acme)
	waitLong(t, "acme's token on every validator", func() bool {
		for _, p := range vs {
			if code, _, _ := as(acme, "cluster", "--server", p.url, "cases"); code != 0 {
				return false
			}
		}
		return true
	})
	if code, out, errb := as(acme, "cluster", "--server", other(2).url, "start", "a1", "--workflow", "Hold", "--input", `"a1"`); code != 0 {
		t.Fatalf("acme's start: %s %s", out, errb)
	}
	if code, out, errb := as(acme, "cluster", "--server", other(3).url, "signal", "a1", "Approve", "--payload", `{"by":"ann"}`); code != 0 {
		t.Fatalf("acme's signal: %s %s", out, errb)
	}
	if code, out, errb := as(clusterToken, "cluster", "--server", other(3).url, "start", "d1", "--workflow", "Hold", "--input", `"d1"`); code != 0 {
		t.Fatalf("the cluster's own start: %s %s", out, errb)
	}
	code, viewer, errb := as(clusterToken, "tenant", "token", "--server", other(1).url, "--role", "viewer", "acme")
	if code != 0 {
		t.Fatalf("token: %d %s", code, errb)
	}
	viewer = strings.TrimSpace(viewer)
	forgeForwarded(t, vs, acme) // auditforward_proc_test.go
	waitLong(t, "the viewer token on every validator", func() bool {
		for _, p := range vs {
			if code, _ := connectCall(t, p.url, "ListCases", viewer, `{}`); code != http.StatusOK {
				return false
			}
		}
		return true
	})
	if code, _, errb := as(viewer, "audit", "export", "--server", other(2).url); code == 0 || !strings.Contains(errb, "role viewer may not export the audit log (needs admin)") {
		t.Fatalf("a viewer's export: %d %s", code, errb)
	}

	// Every validator's export is the same chain once they applied the
	// same blocks, each action in it once: the tenancy changes and the
	// cluster's own start with their records in their transactions,
	// acme's start and signal too, each carried in its own transaction.
	export := func(p *serveProc, format, file string) {
		t.Helper()
		exportAudit(t, as, p.url, format, file) // auditproc_test.go
	}
	read := func(file string) *audit.Evidence { return readEvidence(t, dir, file) }
	actions := func(ev *audit.Evidence) string {
		return auditActions(ev, func(r *audit.Record) string { return r.Tenant + " " + actionResult(r) })
	}
	var evs []*audit.Evidence
	defer func() {
		if t.Failed() {
			for i, ev := range evs {
				t.Logf("export %d:\n%s", i, actions(ev))
			}
		}
	}()
	waitLong(t, "the same audit chain on every validator", func() bool {
		evs = nil
		for i, p := range vs {
			export(p, "json", fmt.Sprintf("v%d.json", i))
			evs = append(evs, read(fmt.Sprintf("v%d.json", i)))
		}
		a := actions(evs[0])
		if !strings.Contains(a, "acme /knhk.v1.KnhkService/StartCase ok") {
			return false
		}
		for _, want := range []string{"default knhk tenant create ok", "default knhk tenant token ok", "default POST /cluster/v1/cases ok",
			"acme POST /cluster/v1/cases ok", "acme POST /cluster/v1/cases/a1/signal ok"} {
			if strings.Count(a, want) != 1 {
				return false
			}
		}
		for _, ev := range evs[1:] {
			if !reflect.DeepEqual(ev.Records, evs[0].Records) {
				return false
			}
		}
		return true
	})
	// Every write's record rode in its own transaction, a tenant's too:
	// no intent, and each start names its case.
	if strings.Contains(actions(evs[0]), " intent") {
		t.Fatalf("an intent record:\n%s", actions(evs[0]))
	}
	for _, e := range evs[0].Records {
		r := e.Record
		if r.Tenant == "default" && r.Action == "POST /cluster/v1/cases" && !slices.Contains(r.Targets, "case_id=d1") {
			t.Fatalf("the cluster's own start's record: %+v", r)
		}
		if r.Tenant == "acme" && r.Action == "POST /cluster/v1/cases" && (r.Role != "admin" || r.Remote == "" || !slices.Contains(r.Targets, "case_id=a1")) {
			t.Fatalf("acme's start's record: %+v", r)
		}
	}
	checkForged(t, evs[0])
	// Reads stay in the validator that answered them.
	if strings.Contains(actions(evs[0]), "ListCases") {
		t.Fatalf("a read in the chain's audit chain:\n%s", actions(evs[0]))
	}

	// An auditor verifies each export offline, in each format.
	export(other(1), "html", "v.html")
	export(other(2), "csv", "v.csv")
	if b, _ := os.ReadFile(filepath.Join(dir, "v.csv")); !strings.Contains(string(b), "knhk tenant create") {
		t.Fatalf("the csv export:\n%s", b)
	}
	for _, f := range []string{"v0.json", "v3.json", "v.html"} {
		code, out, errb := knhkEnv(t, dir, nil, "audit", "verify", "--evidence", f)
		if code != 0 || !strings.Contains(out, "audit records verified") {
			t.Fatalf("verify %s: %d %s %s", f, code, out, errb)
		}
	}
	// Anchored: each validator signs the head of the chain's Merkle
	// tree with its own key (DATA/cluster/NAME/audit.pub).
	if err := os.Mkdir(filepath.Join(dir, "nodekeys"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range vs {
		b, err := os.ReadFile(filepath.Join(dir, "net", fmt.Sprintf("v%d", i), "knhk", "cluster", fmt.Sprintf("v%d", i), "audit.pub"))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, "nodekeys", fmt.Sprintf("v%d.pub", i)), b, 0o644)
	}
	for i := range vs {
		f := fmt.Sprintf("v%d.json", i)
		code, out, errb := knhkEnv(t, dir, nil, "audit", "verify", "--evidence", f, "--trust", "nodekeys", "--signers", "1")
		if code != 0 || !regexp.MustCompile(fmt.Sprintf(`every record is proved in the Merkle tree of \d+ records, root \S+, whose head node v%d signed`, i)).MatchString(out) {
			t.Fatalf("verify %s with the validators' keys: %d %s %s", f, code, out, errb)
		}
	}
	// A validator's export carries its own signature only: --signers 2
	// fails. With --cosign the CLI has the other validators sign the
	// same tree from their own copies of the chain: all four keys.
	if code, _, errb := knhkEnv(t, dir, nil, "audit", "verify", "--evidence", "v0.json", "--trust", "nodekeys", "--signers", "2"); code == 0 || !strings.Contains(errb, "trusted") {
		t.Fatalf("--signers 2 on a head one validator signed: %d %s", code, errb)
	}
	var urls []string
	for k := 2; k <= 4; k++ {
		urls = append(urls, other(k).url)
	}
	waitLong(t, "an export cosigned by every validator", func() bool {
		if code, _, _ := as(clusterToken, "audit", "export", "--server", other(1).url, "--cosign", strings.Join(urls, ","), "--format", "html", "-o", "cosigned.html"); code != 0 {
			return false // a validator behind the exporter refuses until it applied the same records
		}
		code, out, _ := knhkEnv(t, dir, nil, "audit", "verify", "--evidence", "cosigned.html", "--trust", "nodekeys", "--signers", "4")
		return code == 0 && strings.Contains(out, "signed by 4 trusted node(s)")
	})
	if code, _, errb := as(viewer, "audit", "export", "--server", other(1).url, "--cosign", other(2).url); code == 0 || !strings.Contains(errb, "role viewer may not export") {
		t.Fatalf("a viewer's cosigned export: %d %s", code, errb)
	}
	if code, _, errb := as(acme, "audit", "export", "--server", other(1).url, "--cosign", other(2).url, "-o", "nope.json"); code == 0 || !strings.Contains(errb, "--cosign "+other(2).url) {
		t.Fatalf("a cosigning asked with a tenant's token: %d %s", code, errb)
	}
	if _, err := os.Stat(filepath.Join(dir, "nope.json")); err == nil {
		t.Fatal("a failed cosigned export wrote its file")
	}
	anchoredTampering(t, dir, read("v0.json")) // auditcluster_proc_test.go

	// A record changed in an export breaks the chain there.
	b, _ := os.ReadFile(filepath.Join(dir, "v0.json"))
	bad := regexp.MustCompile(`"action": ?"knhk tenant create"`).ReplaceAllString(string(b), `"action": "knhk tenant delete"`)
	if bad == string(b) {
		t.Fatal("no tenant create record to tamper with")
	}
	os.WriteFile(filepath.Join(dir, "bad.json"), []byte(bad), 0o644)
	if code, _, errb := knhkEnv(t, dir, nil, "audit", "verify", "--evidence", "bad.json"); code == 0 || !strings.Contains(errb, "first bad record") {
		t.Fatalf("a tampered export: %d %s", code, errb)
	}
	// acme's admin gets acme's records in clear, the others as digests
	// of the same chain.
	checkTenantExport(t, dir, as, other(3).url, "acme", acme, evs[0])
}
