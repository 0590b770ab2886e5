// This file tests signing through knhk build: the binary's descriptor is
// signed, the signature embedded in the binary and written to APP.sig,
// the binary runs with --trust only when a signature verifies, and keeps
// receipts with --sign-key.

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const signedProgram = `package signed

workflow Twice(n: int) -> int {
  let m = n + 1
  return m * 2
}
`

func TestBuildSignedBinary(t *testing.T) {
	root, dir := buildDir(t, map[string]string{"signed.knhk": signedProgram})
	if code, _, stderr := knhkRun(t, dir, "keygen", "--alg", "mldsa65", "-o", "k"); code != 0 {
		t.Fatalf("keygen: %s", stderr)
	}
	os.Mkdir(filepath.Join(dir, "trust"), 0o755)
	pub, _ := os.ReadFile(filepath.Join(dir, "k.pub"))
	os.WriteFile(filepath.Join(dir, "trust", "k.pub"), pub, 0o644)

	// A public key is refused before anything is built.
	if code, _, stderr := knhkRun(t, dir, "build", "--knhk-src", root, "--sign-key", "k.pub", "signed.knhk"); code != 1 || !strings.Contains(stderr, "a public key where a private key is needed") {
		t.Fatalf("build with a public key: exit %d\n%s", code, stderr)
	}
	bin := filepath.Join(dir, "app")
	code, _, stderr := knhkRun(t, dir, "build", "--knhk-src", root, "--sign-key", "k", "-o", bin, "signed.knhk")
	if code != 0 {
		t.Fatalf("knhk build: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "signed descriptor ") || !strings.Contains(stderr, "signature embedded in") || !strings.Contains(stderr, "app.sig") {
		t.Fatalf("build did not say it signed:\n%s", stderr)
	}

	code, stdout, stderr := appRun(t, dir, bin, "run", "--trust", "trust", "--sign-key", "k", "--input-json", "4")
	if code != 0 || strings.TrimSpace(stdout) != "10" {
		t.Fatalf("signed binary with --trust: exit %d, %q\n%s", code, stdout, stderr)
	}
	// The binary verifies its own receipts.
	if code, stdout, stderr := appRun(t, dir, bin, "receipts", "verify", "--trust", "trust"); code != 0 || !strings.Contains(stdout, "receipts of 1 cases verified") {
		t.Fatalf("receipts of the binary's case: exit %d\n%s%s", code, stdout, stderr)
	}

	// knhk verify accepts the binary's descriptor too: the same program
	// compiles to the same hash.
	if code, _, stderr := knhkRun(t, dir, "verify", "--trust", "trust", "--sig", "app.sig", "signed.knhk"); code != 0 {
		t.Fatalf("knhk verify of the built descriptor: %s", stderr)
	}

	// A signature by an untrusted key, then none: refused, saying which.
	if code, _, stderr := knhkRun(t, dir, "keygen", "--alg", "ed25519", "-o", "other"); code != 0 {
		t.Fatal(stderr)
	}
	code, _, stderr = appRun(t, dir, bin, "run", "--trust", "other.pub", "--input-json", "4")
	if code != 1 || !strings.Contains(stderr, "refused: untrusted: signed by mldsa65 key") {
		t.Fatalf("untrusted: exit %d\n%s", code, stderr)
	}
	// The signature travels inside the binary: without APP.sig, and
	// copied elsewhere, it still runs with --trust.
	os.Remove(bin + ".sig")
	moved := filepath.Join(t.TempDir(), "moved")
	b, _ := os.ReadFile(bin)
	os.WriteFile(moved, b, 0o755)
	code, stdout, stderr = appRun(t, dir, moved, "run", "--trust", "trust", "--input-json", "4")
	if code != 0 || strings.TrimSpace(stdout) != "10" {
		t.Fatalf("embedded signature, no APP.sig: exit %d, %q\n%s", code, stdout, stderr)
	}
	code, _, stderr = appRun(t, dir, moved, "run", "--trust", "other.pub", "--input-json", "4")
	if code != 1 || !strings.Contains(stderr, "refused: untrusted: signed by mldsa65 key") {
		t.Fatalf("embedded signature, untrusted: exit %d\n%s", code, stderr)
	}

	// A binary built without a key carries no signature: refused.
	code, _, stderr = knhkRun(t, dir, "build", "--knhk-src", root, "-o", bin, "signed.knhk")
	if code != 0 {
		t.Fatalf("unsigned build: exit %d\n%s", code, stderr)
	}
	code, _, stderr = appRun(t, dir, bin, "run", "--trust", "trust", "--input-json", "4")
	if code != 1 || !strings.Contains(stderr, "is unsigned: no signature embedded in the binary nor in") {
		t.Fatalf("unsigned: exit %d\n%s", code, stderr)
	}
}
