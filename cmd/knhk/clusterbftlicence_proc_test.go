// This file tests knhk serve --bft --license as processes: the
// validators offer the deployment's licence to the chain, whose genesis
// (knhk cluster bft-init --license-trust) names its issuer key, and
// every validator decides the cluster's starts by it: a second
// concurrent case is refused naming the limit, through any validator,
// and admitted once the first has ended.

package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// licensedBFTNet returns a directory holding app.knhk, the issuer key
// vendor.key (.pub), licence out of tier one (one running case) for
// tenant (the deployment's when ""), and the homes of four validators
// under net, written by bft-init with the extra flags.
func licensedBFTNet(t *testing.T, out, tenant string, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.knhk"), []byte(bftSource), 0o666); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "tiers.json"), []byte(tenantClusterTiers), 0o644)
	must := mustKnhkIn(t, dir)
	must("keygen", "--alg", "mldsa65-ed25519", "-o", "vendor.key")
	must("license", "issue", "--key", "vendor.key", "--tiers", "tiers.json", "--tier", "one", "--customer", "c-inc", "--tenant", tenant, "--days", "30", "-o", out)
	base := strconv.Itoa(21000 + rand.IntN(8000))
	args := append([]string{"cluster", "bft-init", "--dir", "net", "--validators", "4", "--base-port", base}, extra...)
	if code, _, errb := knhkProc(t, dir, args...); code != 0 {
		t.Fatalf("bft-init: %s", errb)
	}
	return dir
}

func TestBFTLicenceProcesses(t *testing.T) {
	dir := licensedBFTNet(t, "cluster.lic", "", "--license-trust", "vendor.key.pub")
	if code, _, errb := knhkProc(t, dir, "serve", "--data", "net/v0/knhk", "--listen", "127.0.0.1:0", "--bft", "net/v0", "--license", "cluster.lic", "app.knhk"); code == 0 || !strings.Contains(errb, "--license-trust") {
		t.Fatalf("--license without its issuer key: %d %s", code, errb)
	}
	vs, stop := startValidators(t, dir, 4, "--license", "cluster.lic", "--license-trust", "vendor.key.pub")
	defer stop()
	waitLong(t, "the chain's licence", func() bool { return strings.Contains(vs[0].log(), "the chain holds licence") })
	cl := func(p *serveProc, args ...string) (int, string, string) {
		return knhkProc(t, dir, append([]string{"cluster", "--server", p.url}, args...)...)
	}
	waitLong(t, "the first start", func() bool {
		code, _, _ := cl(vs[1], "start", "c1", "--workflow", "Hold", "--input", `"c1"`)
		return code == 0
	})
	for _, p := range vs {
		if code, _, errb := cl(p, "start", "c2", "--workflow", "Hold", "--input", `"c2"`); code == 0 || !strings.Contains(errb, "licence limit concurrent_cases (1, tier one) reached") {
			t.Fatalf("a second concurrent start through %s: %d %s", p.url, code, errb)
		}
	}
	if code, _, errb := cl(vs[2], "signal", "c1", "Approve", "--payload", `{"by":"ann"}`); code != 0 {
		t.Fatalf("signal: %d %s", code, errb)
	}
	waitLong(t, "a start once c1 ended", func() bool {
		code, _, _ := cl(vs[3], "start", "c2", "--workflow", "Hold", "--input", `"c2"`)
		return code == 0
	})
}
