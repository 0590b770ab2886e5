// This file tests sealed tenants and their erasure on a CometBFT chain
// as processes: four validators (knhk serve --bft --tenants), a tenant
// created with --encrypt through a validator that does not drive, its
// case started and read through the others; the blocks on every
// validator's disk hold its command only sealed (another tenant's, in
// clear, is found by the same search); a validator restarted then loads
// the sealed space from its save; knhk tenant erase then makes
// every validator refuse it, destroy its key (the seal root's leaf is
// punctured), and go on with the other tenant, a restarted validator
// included.

package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/knhk/knhk/runtime/cluster/bft"
)

// onDisk says whether needle is under dir in any file, as it is or as
// any base64 encoding of it holds it (a transaction's command is
// base64 in its JSON).
func onDisk(t *testing.T, dir, needle string) bool {
	t.Helper()
	forms := [][]byte{[]byte(needle)}
	for p := range 3 {
		enc := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", p) + needle))
		// The part of the encoding that does not depend on what
		// surrounds the needle.
		from, to := (p*4+2)/3+1, len(enc)-4
		if to > from {
			forms = append(forms, []byte(enc[from:to]))
		}
	}
	found := false
	filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() || found {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		for _, f := range forms {
			if strings.Contains(string(b), string(f)) {
				found = true
			}
		}
		return nil
	})
	return found
}

func TestBFTSealedTenantProcesses(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "app.knhk"), []byte(bftSource), 0o666)
	os.WriteFile(filepath.Join(dir, "token"), []byte(clusterToken+"\n"), 0o600)
	base := strconv.Itoa(21000 + rand.IntN(8000))
	mustKnhkIn(t, dir)("cluster", "bft-init", "--dir", "net", "--validators", "4", "--base-port", base)
	saveEveryBlock(t, dir, 4)
	vs, stop := startValidators(t, dir, 4, "--token-file", "token", "--tenants")
	defer stop()
	t.Setenv("KNHK_TOKEN", clusterToken)
	driver := waitDriver(t, dir, vs)
	other := func(k int) *serveProc { return vs[(driver+k)%4] }
	admin := func(args ...string) (int, string, string) {
		return knhkEnv(t, dir, []string{"KNHK_TOKEN=" + clusterToken}, append([]string{"tenant"}, args...)...)
	}
	create := func(args ...string) string {
		code, out, errb := admin(append([]string{"create", "--server", other(1).url}, args...)...)
		if code != 0 {
			t.Fatalf("tenant create %v: %s", args, errb)
		}
		return strings.TrimSpace(out)
	}
	acme, beta := create("--encrypt", "acme"), create("beta")
	as := func(tok string, p *serveProc, args ...string) (int, string, string) {
		return knhkEnv(t, dir, []string{"KNHK_TOKEN=" + tok}, append([]string{"cluster", "--server", p.url}, args...)...)
	}
	start := func(tok string, p *serveProc, id string) {
		t.Helper()
		waitLong(t, "the start of "+id, func() bool {
			code, _, _ := as(tok, p, "start", id, "--workflow", "Hold", "--input", strconv.Quote(id))
			return code == 0
		})
	}
	// restart kills validator r and starts it again on its home: it
	// loads its last save (each block's) and follows the chain.
	restart := func(r int) {
		vs[r].cmd.Process.Kill()
		vs[r].cmd.Wait()
		vs[r] = startServe(t, dir, fmt.Sprintf("net/v%d/knhk", r), "--bft", fmt.Sprintf("net/v%d", r), "--drive", "--token-file", "token", "--tenants", "app.knhk")
	}
	start(acme, other(2), "topsecret-case-77")
	start(beta, other(3), "plainview-case-88")
	running := func(i int) {
		t.Helper()
		waitLong(t, fmt.Sprintf("acme's case on validator %d", i), func() bool {
			code, out, _ := as(acme, vs[i], "get", "topsecret-case-77")
			return code == 0 && strings.Contains(out, "running")
		})
	}
	for i := range vs {
		running(i)
	}
	// A validator restarted while acme is sealed loads acme's space
	// from its save (sealed under acme's key) and serves its case.
	restart((driver + 1) % 4)
	running((driver + 1) % 4)
	// The blocks (and every other file of the homes) hold acme's
	// command only sealed; beta's, in clear, is found by the same
	// search, so the search can see.
	waitLong(t, "beta's case on every disk", func() bool {
		for i := range vs {
			if !onDisk(t, filepath.Join(dir, "net", fmt.Sprintf("v%d", i)), `"case":"plainview-case-88"`) {
				return false
			}
		}
		return true
	})
	for i := range vs {
		if onDisk(t, filepath.Join(dir, "net", fmt.Sprintf("v%d", i)), `"case":"topsecret-case-77"`) {
			t.Fatalf("acme's command in clear on validator %d's disk", i)
		}
	}

	// Erasing one case is refused by name (docs/cluster.md says why),
	// for the tenant's admin and the operator alike, and the case runs
	// on.
	for _, tok := range []string{acme, clusterToken} {
		code, _, errb := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + tok}, "case", "erase", "--server", other(1).url, "--tenant", "acme", "topsecret-case-77")
		if code == 0 || !strings.Contains(errb, "erasing one case (topsecret-case-77) is not supported with --bft") || !strings.Contains(errb, "knhk tenant erase") {
			t.Fatalf("case erase: %d %s", code, errb)
		}
	}
	running(driver)
	// Erase: every validator refuses acme, destroys its key and goes on.
	if code, _, errb := admin("erase", "--server", other(2).url, "acme"); code != 0 {
		t.Fatalf("tenant erase: %s", errb)
	}
	for i, p := range vs {
		waitLong(t, fmt.Sprintf("acme erased on validator %d", i), func() bool {
			code, _, _ := as(acme, p, "get", "topsecret-case-77")
			r, err := bft.LoadSealRoot(filepath.Join(dir, "net", fmt.Sprintf("v%d", i)))
			if err != nil || r == nil {
				return false
			}
			_, lerr := r.Leaf(0)
			return code != 0 && errors.Is(lerr, bft.ErrPunctured)
		})
	}
	if code, out, errb := as(clusterToken, other(1), "get", "topsecret-case-77"); code == 0 {
		t.Fatalf("acme's case read back after the erasure: %s%s", out, errb)
	}
	// A validator restarted after the erasure loads its saved state and
	// follows the chain: beta goes on through it.
	r := (driver + 3) % 4
	restart(r)
	start(beta, vs[r], "after-erase")
	for i, p := range vs {
		waitLong(t, fmt.Sprintf("beta's new case on validator %d", i), func() bool {
			code, _, _ := as(beta, p, "get", "after-erase")
			return code == 0
		})
	}
	if out := strings.TrimSpace(func() string { _, o, _ := admin("list", "--server", vs[r].url); return o }()); !strings.Contains(out, "acme") || !strings.Contains(out, "deleted") {
		t.Fatalf("list after the erasure:\n%s", out)
	}
}
