// This file tests knhk serve --bft --tenants as processes: four
// CometBFT validators, every tenant a space of the one chain. Tenants
// are created through validators that do not drive (the change is
// forwarded to the driver and committed in a block); a tenant's token
// starts, signals and reads its cases through any validator; another
// tenant's token gets "not found" for them; the same case id in two
// tenants is two cases; a tenant's licence, committed with its
// creation, limits its starts on every validator; suspend and delete
// take effect on every validator; what a space does not offer is
// refused by name.

package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBFTTenantsProcesses(t *testing.T) {
	dir := licensedBFTNet(t, "gamma.lic", "gamma") // clusterbftlicence_proc_test.go
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte(clusterToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Refused by name: --tenants without the validators' token, and
	// what a validator does not enforce yet.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--tenants"}, "--tenants with --bft needs --token-file"},
		{[]string{"--trust", "vendor.key.pub"}, "want a directory of .pub files"},
		{[]string{"--auth-issuer", "x"}, "need --tenants"},
		{[]string{"--tenants", "--token-file", "token", "--tls-client-ca", "x.pem"}, "--tls-client-ca needs --tenants and --tls-cert"},
	} {
		args := append([]string{"serve", "--data", "net/v0/knhk", "--listen", "127.0.0.1:0", "--bft", "net/v0"}, c.args...)
		if code, _, errb := knhkProc(t, dir, append(args, "app.knhk")...); code == 0 || !strings.Contains(errb, c.want) {
			t.Fatalf("serve %v: exit %d, want %q:\n%s", c.args, code, c.want, errb)
		}
	}
	vs, stop := startValidators(t, dir, 4, "--token-file", "token", "--tenants")
	defer stop()
	t.Setenv("KNHK_TOKEN", clusterToken)
	driver := waitDriver(t, dir, vs) // clusterbft_proc_test.go

	other := func(k int) *serveProc { return vs[(driver+k)%4] } // k in 1..3: not the driver
	admin := func(args ...string) (int, string, string) {
		t.Helper()
		return knhkEnv(t, dir, []string{"KNHK_TOKEN=" + clusterToken}, append([]string{"tenant"}, args...)...)
	}
	mustAdmin := func(args ...string) string {
		t.Helper()
		code, out, errb := admin(args...)
		if code != 0 {
			t.Fatalf("knhk tenant %v: exit %d %s", args, code, errb)
		}
		return strings.TrimSpace(out)
	}
	// Onboarding through validators that do not drive: one command each.
	acme := mustAdmin("create", "--server", other(1).url, "acme")
	beta := mustAdmin("create", "--server", other(2).url, "beta")
	as := func(tok string, p *serveProc, args ...string) (int, string, string) {
		t.Helper()
		return knhkEnv(t, dir, []string{"KNHK_TOKEN=" + tok}, append([]string{"cluster", "--server", p.url}, args...)...)
	}
	// Every validator learns the tenants (and their issuer key) from
	// the chain: acme's token is taken by each.
	for i, p := range vs {
		waitLong(t, fmt.Sprintf("acme's token taken by validator %d", i), func() bool {
			code, _, _ := as(acme, p, "cases")
			return code == 0
		})
	}
	// Starts through validators that do not drive; the same id in both
	// tenants is two cases.
	if code, out, errb := as(acme, other(3), "start", "a1", "--workflow", "Hold", "--input", `"a1"`); code != 0 {
		t.Fatalf("acme's start: %d %s %s", code, out, errb)
	}
	if code, out, errb := as(acme, other(1), "start", "secret", "--workflow", "Hold", "--input", `"secret"`); code != 0 {
		t.Fatalf("acme's second start: %d %s %s", code, out, errb)
	}
	if code, out, errb := as(beta, other(2), "start", "a1", "--workflow", "Hold", "--input", `"b1"`); code != 0 {
		t.Fatalf("beta's start of its own a1: %d %s %s", code, out, errb)
	}
	if code, out, errb := as(acme, other(2), "signal", "a1", "Approve", "--payload", `{"by":"ann"}`); code != 0 {
		t.Fatalf("acme's signal: %d %s %s", code, out, errb)
	}
	for i, p := range vs {
		// Every validator answers from its own committed state.
		waitLong(t, fmt.Sprintf("acme's a1 completed on validator %d", i), func() bool {
			code, out, _ := as(acme, p, "get", "a1")
			return code == 0 && strings.Contains(out, "a1 by ann")
		})
		code, out, errb := as(beta, p, "get", "a1")
		if code != 0 || !strings.Contains(out, `"status":"running"`) || strings.Contains(out, "by ann") {
			t.Fatalf("beta's a1 on validator %d: %d %s %s", i, code, out, errb)
		}
		// Cross-tenant: beta's token with acme's ids is "not found",
		// reading or writing, on every validator.
		if code, out, errb := as(beta, p, "get", "secret"); code == 0 || !strings.Contains(errb, "not found") && !strings.Contains(errb, "unknown case") {
			t.Fatalf("beta reads acme's case on validator %d: %d %s %s", i, code, out, errb)
		}
		if code, out, errb := as(beta, p, "signal", "secret", "Approve", "--payload", `{"by":"eve"}`); code == 0 || !strings.Contains(errb, "not found") && !strings.Contains(errb, "unknown case") {
			t.Fatalf("beta signals acme's case on validator %d: %d %s %s", i, code, out, errb)
		}
		if code, out, _ := as(beta, p, "cases"); code != 0 || strings.Contains(out, "secret") {
			t.Fatalf("beta's cases on validator %d list acme's: %s", i, out)
		}
		if code, body := connectCall(t, p.url, "GetCase", beta, `{"case_id":"secret"}`); code != http.StatusNotFound {
			t.Fatalf("beta's GetCase of acme's case on validator %d: %d %s", i, code, body)
		}
	}
	// A one-time token: its first write through one validator succeeds,
	// its second through another is refused.
	code, once, errb := admin("token", "--server", other(3).url, "--role", "operator", "--once", "acme")
	if code != 0 {
		t.Fatalf("token --once: %d %s", code, errb)
	}
	once = strings.TrimSpace(once)
	waitLong(t, "the one-time token's start", func() bool {
		code, _, errb := as(once, other(1), "start", "o1", "--workflow", "Hold", "--input", `"o1"`)
		if code != 0 && strings.Contains(errb, "already used") {
			t.Fatalf("the one-time token refused before its use: %s", errb)
		}
		return code == 0
	})
	if code, _, errb := as(once, other(2), "start", "o2", "--workflow", "Hold", "--input", `"o2"`); code == 0 || !strings.Contains(errb, "already used") {
		t.Fatalf("the one-time token used again: %d %s", code, errb)
	}
	// acme's usage, counted from its space of the chain: a report made
	// through one validator reconciles with another's copy, and counts
	// acme's cases only (a1, secret, o1; beta's a1 is not among them).
	mustIn := mustKnhkIn(t, dir)
	mustIn("keygen", "--alg", "mldsa65-ed25519", "-o", "operator.key")
	for i, p := range vs {
		waitLong(t, fmt.Sprintf("acme's three cases in validator %d's usage", i), func() bool {
			_, b := p.get(t, usagePath, acme)
			return strings.Contains(b, `"cases":3`)
		})
	}
	usage := func(tok string, args ...string) (int, string, string) {
		return knhkEnv(t, dir, []string{"KNHK_TOKEN=" + tok}, append([]string{"usage"}, args...)...)
	}
	if code, _, errb := usage(acme, "report", "--key", "operator.key", "--customer", "acme-inc", "--server", other(1).url, "-o", "acme.usage"); code != 0 {
		t.Fatalf("usage report --server: %s", errb)
	}
	if code, out, errb := usage(acme, "verify", "--trust", "operator.key.pub", "--server", other(2).url, "acme.usage"); code != 0 || !strings.Contains(out, "reconciled with the replicated log at "+other(2).url) || !strings.Contains(out, "tenant:        acme") || !strings.Contains(out, "cases:         3") {
		t.Fatalf("usage verify --server: %d %q %q", code, out, errb)
	}
	if code, _, errb := usage(beta, "verify", "--trust", "operator.key.pub", "--server", other(3).url, "acme.usage"); code == 0 || !strings.Contains(errb, "the report is for tenant acme, but the token reads tenant beta") {
		t.Fatalf("acme's report verified with beta's token: %d %s", code, errb)
	}
	// The default tenant (the cluster's token) does not see the tenants'
	// cases either.
	if code, out, _ := as(clusterToken, vs[0], "cases"); code != 0 || strings.Contains(out, "secret") {
		t.Fatalf("the default tenant's cases: %d %s", code, out)
	}
	// What a space does not offer is refused by name: erasing a tenant
	// created without --encrypt (clusterbftseal_proc_test.go erases
	// one that was), and a tenant's trust directory.
	if code, _, errb := admin("erase", "--server", other(1).url, "beta"); code == 0 || !strings.Contains(errb, "cannot erase: tenant beta's data was written without encryption") {
		t.Fatalf("erase: %d %s", code, errb)
	}
	// The same erasure asked as knhk case erase --all (POST /erase?tenant=)
	// is the same tenancy change, answered alike.
	if code, _, errb := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + clusterToken}, "case", "erase", "--server", other(2).url, "--tenant", "beta", "--all"); code == 0 || !strings.Contains(errb, "cannot erase: tenant beta's data was written without encryption") {
		t.Fatalf("case erase --all: %d %s", code, errb)
	}
	if code, _, errb := admin("create", "--server", other(1).url, "--trust", "vendor.key.pub", "delta"); code == 0 || !strings.Contains(errb, "not checked by a CometBFT validator") {
		t.Fatalf("create --trust: %d %s", code, errb)
	}
	// A tenant's licence goes into the chain with its creation, and
	// every validator decides its starts by it: a second concurrent
	// case is refused naming the limit, through any validator; once the
	// first ends, a start is admitted.
	code, out, errb := admin("create", "--server", other(3).url, "--license", "gamma.lic", "--license-trust", "vendor.key.pub", "gamma")
	if code != 0 {
		t.Fatalf("create --license: %d %s", code, errb)
	}
	gamma := strings.TrimSpace(out)
	waitLong(t, "gamma's first start", func() bool {
		code, _, _ := as(gamma, other(1), "start", "g1", "--workflow", "Hold", "--input", `"g1"`)
		return code == 0
	})
	if code, _, errb := as(gamma, other(2), "start", "g2", "--workflow", "Hold", "--input", `"g2"`); code == 0 || !strings.Contains(errb, "licence limit concurrent_cases (1, tier one) reached") {
		t.Fatalf("gamma's second concurrent start: %d %s", code, errb)
	}
	if code, _, errb := as(gamma, other(2), "signal", "g1", "Approve", "--payload", `{"by":"gil"}`); code != 0 {
		t.Fatalf("gamma's signal: %d %s", code, errb)
	}
	waitLong(t, "gamma's start once g1 ended", func() bool {
		code, _, _ := as(gamma, other(3), "start", "g2", "--workflow", "Hold", "--input", `"g2"`)
		return code == 0
	})
	// Suspend and delete through validators that do not drive: every
	// validator refuses the tenant's calls.
	mustAdmin("suspend", "--server", other(3).url, "acme")
	mustAdmin("delete", "--server", other(2).url, "beta")
	for i, p := range vs {
		waitLong(t, fmt.Sprintf("acme suspended and beta deleted on validator %d", i), func() bool {
			_, _, e1 := as(acme, p, "cases")
			code, _, _ := as(beta, p, "get", "a1")
			return strings.Contains(e1, "suspended") && code != 0
		})
	}
	if out := mustAdmin("list", "--server", vs[driver].url); !strings.Contains(out, "acme") || !strings.Contains(out, "suspended") || !strings.Contains(out, "deleted") {
		t.Fatalf("list:\n%s", out)
	}
}
