// This file tests signed deploys on a CometBFT chain as processes: knhk
// cluster bft-init --trust DIR puts the deploy keys into the genesis,
// four validators run knhk serve --bft --trust DIR, and knhk run
// --server deploys a new program through a validator that does not
// drive: unsigned or signed by another key it is refused naming the
// program and the keys; signed by the trusted key every validator takes
// it and runs its case, whose signal and query go through the others.

package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/knhk/knhk/runtime/sign"
)

func TestBFTDeployTrustProcesses(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "app.knhk"), []byte(bftSource), 0o666)
	os.WriteFile(filepath.Join(dir, "v2.knhk"), []byte(strings.Replace(bftSource, `id + " by " + by`, `id + " signed off by " + by`, 1)), 0o666)
	must := mustKnhkIn(t, dir)
	must("keygen", "--alg", "mldsa65-ed25519", "-o", "vendor.key")
	must("keygen", "--alg", "ed25519", "-o", "other.key")
	keyID := func(file string) string {
		b, _ := os.ReadFile(filepath.Join(dir, file))
		k, err := sign.ParsePublicKey(b)
		if err != nil {
			t.Fatal(err)
		}
		return k.ID()
	}
	vendor, other := keyID("vendor.key.pub"), keyID("other.key.pub")
	for d, key := range map[string]string{"trust": "vendor.key.pub", "others": "other.key.pub"} {
		os.Mkdir(filepath.Join(dir, d), 0o755)
		b, _ := os.ReadFile(filepath.Join(dir, key))
		os.WriteFile(filepath.Join(dir, d, "k.pub"), b, 0o644)
	}
	base := strconv.Itoa(21000 + rand.IntN(8000))
	must("cluster", "bft-init", "--dir", "net", "--validators", "4", "--base-port", base, "--trust", "trust")
	serve := func(extra ...string) (int, string) {
		args := append([]string{"serve", "--data", "net/v0/knhk", "--listen", "127.0.0.1:0", "--bft", "net/v0"}, extra...)
		code, _, errb := knhkProc(t, dir, append(args, "app.knhk")...)
		return code, errb
	}
	// Refused by name: keys the genesis does not name, a file, a policy.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--trust", "others"}, "key " + other + " is not a deploy key of the chain's genesis (" + vendor + ")"},
		{[]string{"--trust", "vendor.key.pub"}, "want a directory"},
		{[]string{"--policy", "hybrid"}, "--policy is not taken with --bft"},
	} {
		if code, errb := serve(c.args...); code != 1 || !strings.Contains(errb, c.want) {
			t.Fatalf("serve --bft %v: exit %d, want %q:\n%s", c.args, code, c.want, errb)
		}
	}
	vs, stop := startValidators(t, dir, 4, "--trust", "trust")
	defer stop()
	driver := waitDriver(t, dir, vs)
	via := vs[(driver+1)%4] // not the driver: the deploy is forwarded
	run := func() (int, string) {
		code, _, errb := knhkProc(t, dir, "run", "--server", via.url, "--workflow", "Hold", "--input-json", `"c1"`, "v2.knhk")
		return code, errb
	}
	if code, errb := run(); code == 0 || !strings.Contains(errb, "deploy of v2.knhk") || !strings.Contains(errb, "is unsigned") || !strings.Contains(errb, vendor) {
		t.Fatalf("unsigned: %d %q", code, errb)
	}
	must("sign", "--key", "other.key", "v2.knhk")
	if code, errb := run(); code == 0 || !strings.Contains(errb, "untrusted: signed by ed25519 key "+other) || !strings.Contains(errb, "deploy of v2.knhk") {
		t.Fatalf("signed by another key: %d %q", code, errb)
	}
	os.Remove(filepath.Join(dir, "v2.knhk.sig"))
	must("sign", "--key", "vendor.key", "v2.knhk")
	code, errb := run()
	m := regexp.MustCompile(`case (\S+)`).FindStringSubmatch(errb)
	if code != 0 || m == nil || !strings.Contains(errb, "waiting for signal Approve") {
		t.Fatalf("signed: %d %q", code, errb)
	}
	// Every validator holds the case of the deployed program; the
	// signal goes through another validator and the result is v2's.
	for i, p := range vs {
		waitLong(t, "the case on validator "+strconv.Itoa(i), func() bool {
			code, out, _ := knhkProc(t, dir, "query", "--server", p.url, m[1], "stage")
			return code == 0 && strings.TrimSpace(out) == `"waiting for c1"`
		})
	}
	if code, out, errb := knhkProc(t, dir, "signal", "--server", vs[(driver+2)%4].url, m[1], "Approve", `{"by":"ann"}`); code != 0 || strings.TrimSpace(out) != `"c1 signed off by ann"` {
		t.Fatalf("signal of the deployed program's case: %d %s%s", code, out, errb)
	}
	// The validators' own program needs no signature: every validator
	// was started with it.
	if code, _, errb := knhkProc(t, dir, "run", "--server", via.url, "--workflow", "Hold", "--input-json", `"c2"`, "app.knhk"); code != 0 {
		t.Fatalf("the validators' own program: %q", errb)
	}
}
