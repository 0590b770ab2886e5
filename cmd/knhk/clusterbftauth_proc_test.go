// This file tests CometBFT validators (knhk serve --bft) serving their
// API over TLS behind a bearer token: a write through a validator that
// does not drive is forwarded to the driver over TLS with the caller's
// token; a call without it is refused.

package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestBFTTLSAndToken(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.knhk"), []byte(bftSource), 0o666); err != nil {
		t.Fatal(err)
	}
	writeNodeCertAndToken(t, dir)
	base := strconv.Itoa(21000 + rand.IntN(8000))
	if code, _, errb := knhkProc(t, dir, "cluster", "bft-init", "--dir", "net", "--validators", "4", "--base-port", base); code != 0 {
		t.Fatalf("bft-init: %s", errb)
	}
	vs, stop := startValidators(t, dir, 4, "--tls-cert", "node.pem", "--tls-key", "node.key", "--token-file", "token")
	defer stop()
	for i := range vs {
		if !strings.HasPrefix(vs[i].url, "https://") {
			t.Fatalf("a validator with --tls-cert listens on %s", vs[i].url)
		}
	}
	t.Setenv("SSL_CERT_FILE", filepath.Join(dir, "node.pem"))
	if code, _, errb := knhkProc(t, dir, "run", "--server", vs[0].url, "app.knhk", "--input-json", `"x"`); code == 0 || !strings.Contains(errb, "missing or wrong bearer token") {
		t.Fatalf("run --server without a token: exit %d\n%s", code, errb)
	}
	t.Setenv("KNHK_TOKEN", clusterToken)
	first := -1
	waitUntil(t, "a driver", func() bool {
		for i, p := range vs {
			if st, ok := clusterStatusOf(t, dir, p.url); ok && st.State == "Validator (drives)" {
				first = i
				return true
			}
		}
		return false
	})
	other := (first + 1) % 4
	code, _, errb := knhkProc(t, dir, "run", "--server", vs[other].url, "app.knhk", "--input-json", `"r1"`)
	m := regexp.MustCompile(`case (\S+)`).FindStringSubmatch(errb)
	if code != 0 || m == nil || !strings.Contains(errb, "waiting for signal Approve") {
		t.Fatalf("run --server through a validator that does not drive: exit %d\n%s", code, errb)
	}
	code, out, errb := knhkProc(t, dir, "signal", "--server", vs[other].url, m[1], "Approve", `{"by":"ann"}`)
	if code != 0 || strings.TrimSpace(out) != `"r1 by ann"` {
		t.Fatalf("signal --server: exit %d\n%s%s", code, out, errb)
	}
	if code, out, errb := knhkProc(t, dir, "history", "--server", vs[other].url, m[1]); code != 0 || !strings.Contains(out, "Approve") {
		t.Fatalf("history --server: exit %d\n%s%s", code, out, errb)
	}
}
