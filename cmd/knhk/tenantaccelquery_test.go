// This file tests that under knhk serve --tenants the kernel calls of a
// case's queries (QueryCase, knhk query --server, the console's query
// panel) are metered to the tenant whose case it is, as its steps' are:
// on its /metrics and in its signed usage report.

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// queriedSource's only kernel call is in its query.
const queriedSource = `package queried

kernel scale(a: [f32]) -> [f32] {
  out[i] = a[i] * 2.0 + f32(i % 7)
}

fn f32s(xs: [float]) -> [f32] = map(xs, x => f32(x))

workflow Hold(xs: [float]) -> int {
  query scaled -> [f32] = scale(f32s(xs))
  select {
    on signal Go -> { return 1 }
  }
}
`

func TestTenantQueryAcceleratorMetering(t *testing.T) {
	if _, err := exec.LookPath("vulkaninfo"); err != nil {
		t.Skip("no Vulkan device (vulkaninfo not found)")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "q.knhk"), []byte(queriedSource), 0o644)
	must := mustKnhkIn(t, dir)
	must("keygen", "--alg", "mldsa65-ed25519", "-o", "operator.key")
	token := map[string]string{}
	for _, id := range []string{"acme", "beta"} {
		token[id] = "KNHK_TOKEN=" + must("tenant", "create", "--data", "data", id)
	}

	t.Setenv("KNHK_DEVICE", "vulkan") // the server's environment
	t.Setenv("KNHK_DEVICE_MIN", "1")
	srv := startServe(t, dir, "data", "--tenants")
	defer srv.stop(t, syscall.SIGTERM)
	as := func(tenant string, args ...string) (int, string, string) {
		return knhkEnv(t, dir, []string{token[tenant]}, append([]string{args[0], "--server", srv.url}, args[1:]...)...)
	}
	waiting := regexp.MustCompile(`case (c-[0-9a-f]{16}) is waiting for signal Go`)
	start := func(tenant string) string {
		t.Helper()
		code, _, errs := as(tenant, "run", "--input-json", "[1.5,2,3,-4,5.25]", "q.knhk")
		m := waiting.FindStringSubmatch(errs)
		if code != 0 || m == nil {
			t.Fatalf("%s's Hold: %d %q\n%s", tenant, code, errs, srv.log())
		}
		return m[1]
	}
	calls := func(tenant string) float64 {
		t.Helper()
		_, body := srv.get(t, "/metrics", strings.TrimPrefix(token[tenant], "KNHK_TOKEN="))
		return metricValue(t, body, `knhk_accelerator_calls_total{tenant="`+tenant+`"} `)
	}
	a, b := start("acme"), start("beta")
	if ac, bc := calls("acme"), calls("beta"); ac != 0 || bc != 0 {
		t.Fatalf("before any query: acme %v, beta %v accelerator calls, want 0 (no step calls a kernel)", ac, bc)
	}

	code, out, errs := as("acme", "query", a, "scaled")
	if code != 0 || strings.Join(strings.Fields(out), "") != "[3,5,8,-5,14.5]" {
		t.Fatalf("acme's query: %d %s %q\n%s", code, out, errs, srv.log())
	}
	if ac, bc := calls("acme"), calls("beta"); ac != 1 || bc != 0 {
		t.Fatalf("after acme's query: acme %v, beta %v accelerator calls, want 1 and 0", ac, bc)
	}
	// beta asking about acme's case finds nothing and is metered nothing.
	if code, _, errs := as("beta", "query", a, "scaled"); code == 0 || !strings.Contains(errs, "no case "+a) {
		t.Errorf("beta's query of acme's case: %d %q, want no such case", code, errs)
	}
	if code, _, errs := as("beta", "query", b); code != 0 {
		t.Fatalf("beta's query of every query of its case: %d %q", code, errs)
	}
	if ac, bc := calls("acme"), calls("beta"); ac != 1 || bc != 1 {
		t.Fatalf("after beta's queries: acme %v, beta %v accelerator calls, want 1 and 1", ac, bc)
	}
	if code := srv.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("serve exit %d\n%s", code, srv.log())
	}
	// acme's signed usage report counts the query's call and reconciles
	// with its ledger.
	must("usage", "report", "--key", "operator.key", "--customer", "acme", "--tenant", "acme", "--data", "data/tenants/acme/data", "-o", "acme.usage")
	if out := must("usage", "verify", "--trust", "operator.key.pub", "--data", "data/tenants/acme/data", "acme.usage"); !strings.Contains(out, "in 1 calls") || !strings.Contains(out, "reconciled") {
		t.Fatalf("acme's usage verify: %s", out)
	}
}
