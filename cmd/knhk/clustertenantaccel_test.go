// This file tests accelerator metering on knhk serve --node --tenants:
// a tenant's raft group runs its steps' and its queries' kernel calls on
// the tenant's meter, so that they are on the tenant's /metrics and
// ledger on the node, and a tenant whose licence does not include the
// accelerator gets both on the CPU, as under a single knhk serve.

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/meter"
)

// clusterAccelSource calls a kernel in its query and in its step.
const clusterAccelSource = `package queried

kernel scale(a: [f32]) -> [f32] {
  out[i] = a[i] * 2.0 + f32(i % 7)
}

fn f32s(xs: [float]) -> [f32] = map(xs, x => f32(x))

workflow Hold(xs: [float]) -> [f32] {
  query scaled -> [f32] = scale(f32s(xs))
  select {
    on signal Go -> { return scale(f32s(xs)) }
  }
}
`

func TestClusterTenantAcceleratorMetering(t *testing.T) {
	if _, err := exec.LookPath("vulkaninfo"); err != nil {
		t.Skip("no Vulkan device (vulkaninfo not found)")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "q.knhk"), []byte(clusterAccelSource), 0o644)
	os.WriteFile(filepath.Join(dir, "token"), []byte(clusterToken+"\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "tiers.json"), []byte(`{"version":1,"tiers":{"cpu":{"concurrent_cases":5}}}`), 0o644)
	must := mustKnhkIn(t, dir)
	must("keygen", "--alg", "mldsa65-ed25519", "-o", "vendor.key")
	must("license", "issue", "--key", "vendor.key", "--tiers", "tiers.json", "--tier", "cpu", "--customer", "beta-inc", "--tenant", "beta", "--days", "30", "-o", "beta.lic")
	token := map[string]string{
		"acme": must("tenant", "create", "--data", "data", "acme"),
		"beta": must("tenant", "create", "--data", "data", "--license", "beta.lic", "--license-trust", "vendor.key.pub", "beta"),
	}

	t.Setenv("KNHK_DEVICE", "vulkan") // the node's environment
	t.Setenv("KNHK_DEVICE_MIN", "1")
	srv := startServe(t, dir, "data", "--node", "n1", "--raft", "127.0.0.1:0", "--tenants", "--token-file", "token", "q.knhk")
	defer srv.stop(t, syscall.SIGTERM)
	for id := range token {
		waitLong(t, id+"'s group to have a leader", func() bool {
			st, ok := groupStatus(t, srv, id)
			return ok && st.Leader != ""
		})
	}
	as := func(tenant string, args ...string) (int, string, string) {
		return knhkEnv(t, dir, []string{"KNHK_TOKEN=" + token[tenant]}, append([]string{args[0], "--server", srv.url}, args[1:]...)...)
	}
	waiting := regexp.MustCompile(`case (\S+) is waiting for signal Go`)
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
		_, body := srv.get(t, "/metrics", token[tenant])
		return metricValue(t, body, `knhk_accelerator_calls_total{tenant="`+tenant+`"} `)
	}
	const want = "[3,5,8,-5,14.5]"
	query := func(tenant, id string) {
		t.Helper()
		code, out, errs := as(tenant, "query", id, "scaled")
		if code != 0 || strings.Join(strings.Fields(out), "") != want {
			t.Fatalf("%s's query: %d %s %q\n%s", tenant, code, out, errs, srv.log())
		}
	}
	a, b := start("acme"), start("beta")
	if ac, bc := calls("acme"), calls("beta"); ac != 0 || bc != 0 {
		t.Fatalf("before any query: acme %v, beta %v accelerator calls, want 0", ac, bc)
	}
	query("acme", a)
	if ac, bc := calls("acme"), calls("beta"); ac != 1 || bc != 0 {
		t.Fatalf("after acme's query: acme %v, beta %v accelerator calls, want 1 and 0", ac, bc)
	}
	// beta's licence keeps its kernel calls on the CPU: the same answer,
	// nothing metered.
	query("beta", b)
	for tenant, id := range map[string]string{"acme": a, "beta": b} {
		code, out, errs := as(tenant, "signal", id, "Go")
		if code != 0 || strings.Join(strings.Fields(out), "") != want {
			t.Fatalf("%s's signal: %d %s %q\n%s", tenant, code, out, errs, srv.log())
		}
	}
	if ac, bc := calls("acme"), calls("beta"); ac != 2 || bc != 0 {
		t.Fatalf("after the queries and steps: acme %v, beta %v accelerator calls, want 2 and 0", ac, bc)
	}
	// The calls travel through each tenant's group's log: the signed
	// usage report counted from it carries acme's two, the log's
	// metric says so, and verify --server reconciles them.
	must("keygen", "--alg", "mldsa65-ed25519", "-o", "operator.key")
	report := func(tenant string) meter.Usage {
		t.Helper()
		file := tenant + ".usage"
		code, _, errs := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + token[tenant]}, "usage", "report", "--key", "operator.key", "--customer", tenant+"-inc", "--server", srv.url, "-o", file)
		b, err := os.ReadFile(filepath.Join(dir, file))
		if code != 0 || err != nil {
			t.Fatalf("%s's usage report: %d %q %v", tenant, code, errs, err)
		}
		r, err := meter.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		return r.Usage
	}
	var u meter.Usage
	waitLong(t, "acme's log to carry its accelerator calls", func() bool {
		u = report("acme")
		return u.AcceleratorCalls >= 2
	})
	if u.AcceleratorCalls != 2 || u.AcceleratorNS <= 0 || u.AppliedIndex == 0 {
		t.Fatalf("acme's report: %+v, want 2 accelerator calls", u)
	}
	_, body := srv.get(t, "/metrics", token["acme"])
	if v := metricValue(t, body, `knhk_usage_accelerator_calls{month="`+u.Month+`"} `); v != 2 {
		t.Fatalf("acme's log metric: %v calls, want 2", v)
	}
	code, out, errs := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + token["acme"]}, "usage", "verify", "--trust", "operator.key.pub", "--server", srv.url, "acme.usage")
	if code != 0 || !strings.Contains(out, " in 2 calls") {
		t.Fatalf("verify acme's report: %d %s %q", code, out, errs)
	}
	if bu := report("beta"); bu.AcceleratorCalls != 0 || bu.AcceleratorNS != 0 {
		t.Fatalf("beta's report: %+v, want no accelerator time", bu)
	}
	if code := srv.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("serve exit %d\n%s", code, srv.log())
	}
	// The node's ledger of acme's calls, beside its replica of the log.
	for tenant, want := range map[string]int64{"acme": 2, "beta": 0} {
		l, err := meter.ReadLedger(filepath.Join(dir, "data", "cluster", "n1", "tenants", tenant))
		if err != nil {
			t.Fatal(err)
		}
		if n := l.Month(meter.Month(time.Now().UnixNano())).Calls; n != want {
			t.Errorf("%s's ledger on n1: %d calls, want %d", tenant, n, want)
		}
	}
}
