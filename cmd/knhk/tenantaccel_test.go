// This file tests accelerator metering under knhk serve --tenants on the
// machine's Vulkan device (lavapipe in CI): a tenant's kernel calls on
// the device are counted on its /metrics and in its usage report, which
// reconciles with its ledger; a tenant whose licence has no accelerator
// gets the same results from the CPU and no accelerator time.

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

const accelSource = `package scores

kernel scale(a: [f32]) -> [f32] {
  out[i] = a[i] * 2.0 + f32(i % 7)
}

fn f32s(xs: [float]) -> [f32] = map(xs, x => f32(x))

workflow Score(xs: [float]) -> [f32] {
  let s = scale(f32s(xs))
  return s
}
`

func TestTenantAcceleratorMetering(t *testing.T) {
	if _, err := exec.LookPath("vulkaninfo"); err != nil {
		t.Skip("no Vulkan device (vulkaninfo not found)")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "k.knhk"), []byte(accelSource), 0o644)
	os.WriteFile(filepath.Join(dir, "tiers.json"), []byte(`{"version":1,"tiers":{"cpu":{"grace_days":1}}}`), 0o644)
	must := mustKnhkIn(t, dir)
	must("keygen", "--alg", "mldsa65-ed25519", "-o", "vendor.key")
	must("keygen", "--alg", "mldsa65-ed25519", "-o", "operator.key")
	must("license", "issue", "--key", "vendor.key", "--tiers", "tiers.json", "--tier", "cpu", "--customer", "beta-corp", "--days", "30", "-o", "beta.lic")
	acme := must("tenant", "create", "--data", "data", "acme")
	beta := must("tenant", "create", "--data", "data", "--license", "beta.lic", "--license-trust", "vendor.key.pub", "beta")

	t.Setenv("KNHK_DEVICE", "vulkan") // the server's environment
	t.Setenv("KNHK_DEVICE_MIN", "1")
	srv := startServe(t, dir, "data", "--tenants")
	defer srv.stop(t, syscall.SIGTERM)
	run := func(tok string) string {
		t.Helper()
		code, out, errs := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + tok}, "run", "--server", srv.url, "--input-json", "[1.5,2,3,-4,5.25]", "k.knhk")
		if code != 0 {
			t.Fatalf("run: %s\n%s", errs, srv.log())
		}
		return strings.TrimSpace(out)
	}
	a, b := run(acme), run(beta)
	if a != "[3,5,8,-5,14.5]" || b != a {
		t.Fatalf("results: acme %s, beta %s", a, b)
	}
	_, am := srv.get(t, "/metrics", acme)
	if v := metricValue(t, am, `knhk_accelerator_calls_total{tenant="acme"} `); v != 1 {
		t.Fatalf("acme's accelerator calls: %v\n%s", v, am)
	}
	if v := metricValue(t, am, `knhk_accelerator_seconds_total{tenant="acme"} `); v <= 0 {
		t.Fatalf("acme's accelerator seconds: %v", v)
	}
	_, bm := srv.get(t, "/metrics", beta)
	if v := metricValue(t, bm, `knhk_accelerator_calls_total{tenant="beta"} `); v != 0 {
		t.Fatalf("beta's accelerator calls: %v", v)
	}
	if !strings.Contains(srv.log(), "licence limit accelerator: tier cpu does not include accelerators; kernel calls run on the CPU") {
		t.Fatalf("no warning for beta:\n%s", srv.log())
	}
	if code := srv.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("serve exit %d\n%s", code, srv.log())
	}
	// acme's signed usage report carries its accelerator time and
	// reconciles with its directory.
	must("usage", "report", "--key", "operator.key", "--customer", "acme", "--tenant", "acme", "--data", "data/tenants/acme/data", "-o", "acme.usage")
	out := must("usage", "verify", "--trust", "operator.key.pub", "--data", "data/tenants/acme/data", "acme.usage")
	if !strings.Contains(out, "in 1 calls") || !strings.Contains(out, "reconciled") {
		t.Fatalf("usage verify: %s", out)
	}
	// The ledger edited afterwards no longer reconciles.
	os.WriteFile(filepath.Join(dir, "data/tenants/acme/data/meter/accelerator.json"), []byte(`{"version":1,"months":{}}`), 0o644)
	if code, _, errs := knhkEnv(t, dir, nil, "usage", "verify", "--trust", "operator.key.pub", "--data", "data/tenants/acme/data", "acme.usage"); code == 0 || !strings.Contains(errs, "accelerator_calls: report 1, ledger 0") {
		t.Fatalf("edited ledger: %d %s", code, errs)
	}
}
