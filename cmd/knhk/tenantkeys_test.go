// This file tests, through the knhk binary, what each tenant carries of
// its own under knhk serve --tenants: a licence that limits only that
// tenant, a signing key whose receipts verify per tenant, and knhk's own
// composite-signed tokens, including one-time ones that a replay cannot
// reuse.

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const tenantTiers = `{"version":1,"tiers":{
 "small":{"concurrent_cases":1,"grace_days":1},
 "large":{"concurrent_cases":5,"grace_days":1}}}`

// TestTenantLicences gives tenants acme and beta licences of different
// tiers: acme's concurrent_cases of 1 refuses its second held case while
// beta starts three; acme's signing key signs its receipts, which verify
// against its public key alone; a licence for another tenant is refused.
func TestTenantLicences(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "hold.knhk"), []byte(serveSource), 0o644)
	os.WriteFile(filepath.Join(dir, "tiers.json"), []byte(tenantTiers), 0o644)
	must := mustKnhkIn(t, dir)
	must("keygen", "--alg", "mldsa65-ed25519", "-o", "vendor.key")
	must("license", "issue", "--key", "vendor.key", "--tiers", "tiers.json", "--tier", "small", "--customer", "acme", "--tenant", "acme", "--days", "30", "-o", "acme.lic")
	must("license", "issue", "--key", "vendor.key", "--tiers", "tiers.json", "--tier", "large", "--customer", "beta-corp", "--days", "30", "-o", "beta.lic")
	acme := must("tenant", "create", "--data", "data", "--sign-key", "new", "--license", "acme.lic", "--license-trust", "vendor.key.pub", "acme")
	beta := must("tenant", "create", "--data", "data", "beta")
	// A licence naming acme cannot be beta's.
	if code, _, errs := knhkEnv(t, dir, nil, "tenant", "set", "--data", "data", "--license", "acme.lic", "--license-trust", "vendor.key.pub", "beta"); code == 0 || !strings.Contains(errs, "is for tenant acme, not beta") {
		t.Fatalf("acme's licence on beta: %d %s", code, errs)
	}

	if out := must("tenant", "list", "--data", "data"); !strings.Contains(out, "sign-key,licence") {
		t.Fatalf("tenant list: %s", out)
	}
	srv := startServe(t, dir, "data", "--tenants")
	defer srv.stop(t, syscall.SIGTERM)
	start := func(tok, id string) (int, string) {
		code, out, errs := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + tok}, "run", "--server", srv.url, "--workflow", "Hold", "--input-json", `"`+id+`"`, "hold.knhk")
		return code, out + errs
	}
	if code, out := start(acme, "a1"); code != 0 {
		t.Fatalf("acme's first case: %s\n%s", out, srv.log())
	}
	if code, out := start(acme, "a2"); code == 0 || !strings.Contains(out, "licence limit concurrent_cases (1, tier small) reached") {
		t.Fatalf("acme's second case: %d %s", code, out)
	}
	// beta is not limited by acme's licence (and has none yet).
	for _, id := range []string{"b1", "b2", "b3"} {
		if code, out := start(beta, id); code != 0 {
			t.Fatalf("beta's case %s: %s", id, out)
		}
	}
	// beta gets its own licence while the server runs: its limit of 5
	// admits two more, then refuses.
	must("tenant", "set", "--data", "data", "--license", "beta.lic", "--license-trust", "vendor.key.pub", "beta")
	waitFor(t, srv, "beta's licence applied", func() bool {
		_, body := srv.get(t, "/metrics", beta)
		return strings.Contains(body, `knhk_license_expiry_timestamp_seconds{customer="beta-corp",tenant="beta"}`)
	})
	for _, id := range []string{"b4", "b5"} {
		if code, out := start(beta, id); code != 0 {
			t.Fatalf("beta's case %s: %s", id, out)
		}
	}
	if code, out := start(beta, "b6"); code == 0 || !strings.Contains(out, "licence limit concurrent_cases (5, tier large) reached") {
		t.Fatalf("beta's sixth case: %d %s", code, out)
	}
	// Each tenant's licence metrics are its own.
	if _, body := srv.get(t, "/metrics", acme); !strings.Contains(body, `customer="acme",tenant="acme"`) || strings.Contains(body, "beta-corp") {
		t.Fatalf("acme's metrics:\n%s", body)
	}
	if code := srv.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("serve exit %d\n%s", code, srv.log())
	}
	// acme's receipts verify against acme's key; beta kept none.
	out := must("receipts", "verify", "--data", "data/tenants/acme/data", "--trust", "data/tenants/acme/sign.pub")
	if !strings.Contains(out, "receipts of 1 cases verified") {
		t.Fatalf("acme's receipts: %s", out)
	}
	if code, _, errs := knhkEnv(t, dir, nil, "receipts", "verify", "--data", "data/tenants/beta/data"); code == 0 {
		t.Fatalf("beta has receipts: %s", errs)
	}
}

// TestTenantSignedTokens: knhk tenant token --format knhk issues a
// composite-signed token the server verifies; one signed by another
// composite key is refused until the server trusts it (--auth-trust); a
// one-time token works once.
func TestTenantSignedTokens(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "hold.knhk"), []byte(serveSource), 0o644)
	must := mustKnhkIn(t, dir)
	admin := must("tenant", "create", "--data", "data", "--format", "knhk", "acme")
	if !strings.HasPrefix(admin, "knhk1.") {
		t.Fatalf("knhk token %.20q", admin)
	}
	must("keygen", "--alg", "mldsa65-ed25519", "-o", "ops.key")
	opsTok := must("tenant", "token", "--data", "data", "--key", "ops.key", "--role", "deployer", "acme")
	once := must("tenant", "token", "--data", "data", "--format", "knhk", "--once", "acme")
	srv := startServe(t, dir, "data", "--tenants")
	run := func(tok string) (int, string) {
		code, out, errs := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + tok}, "run", "--server", srv.url, "--workflow", "Inc", "--input-json", "1", "hold.knhk")
		return code, out + errs
	}
	cases := func(tok string) (int, string) {
		code, out, errs := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + tok}, "cases", "--server", srv.url)
		return code, out + errs
	}
	if code, out := run(admin); code != 0 || !strings.Contains(out, "2") {
		t.Fatalf("admin's knhk token: %d %s", code, out)
	}
	if code, out := run(opsTok); code == 0 || !strings.Contains(out, "not a trusted key") {
		t.Fatalf("untrusted key: %d %s", code, out)
	}
	if code, out := cases(once); code != 0 {
		t.Fatalf("one-time token, first use: %s", out)
	}
	if code, out := cases(once); code == 0 || !strings.Contains(out, "one-time token") || !strings.Contains(out, "already used") {
		t.Fatalf("one-time token, second use: %d %s", code, out)
	}
	srv.stop(t, syscall.SIGTERM)
	// The one-time token stays used across a restart; the ops key is
	// trusted with --auth-trust.
	srv = startServe(t, dir, "data", "--tenants", "--auth-trust", "ops.key.pub", "--require-nonce")
	defer srv.stop(t, syscall.SIGTERM)
	if code, out := cases(once); code == 0 || !strings.Contains(out, "already used") {
		t.Fatalf("one-time token after a restart: %d %s", code, out)
	}
	// The CLI sends a nonce with every call, so --require-nonce lets it
	// start cases.
	if code, out := run(opsTok); code != 0 || !strings.Contains(out, "2") {
		t.Fatalf("trusted ops key: %d %s\n%s", code, out, srv.log())
	}
}

// waitFor waits up to 20s for ok.
func waitFor(t *testing.T, srv *serveProc, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20s\n%s", what, srv.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
