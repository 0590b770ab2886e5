// This file tests knhk serve's signing flags: with --sign-key the cases
// it runs leave a receipt log that verifies and every deployed
// descriptor is signed; with --trust a deploy goes through only with a
// signature by a trusted key, sent with the deploy or in the trust
// directory.

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestServeSigning(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "hold.knhk"), []byte(serveSource), 0o644)
	for _, alg := range []string{"mldsa65-ed25519", "ed25519"} {
		if code, _, errs := knhkProc(t, dir, "keygen", "--alg", alg, "-o", alg+".key"); code != 0 {
			t.Fatal(errs)
		}
	}
	trust := filepath.Join(dir, "trust")
	os.Mkdir(trust, 0o755)
	pub, _ := os.ReadFile(filepath.Join(dir, "mldsa65-ed25519.key.pub"))
	os.WriteFile(filepath.Join(trust, "pub.pub"), pub, 0o644)

	srv := startServe(t, dir, "data", "--sign-key", "mldsa65-ed25519.key", "--trust", "trust", "--checkpoint-every", "3")
	// Unsigned: refused, saying so.
	code, _, errs := knhkProc(t, dir, "run", "--server", srv.url, "--workflow", "Inc", "--input-json", "41", "hold.knhk")
	if code == 0 || !strings.Contains(errs, "is unsigned: no signature of it in trust/*.sig") {
		t.Fatalf("unsigned deploy: %d %q", code, errs)
	}
	// The signature travels with the deploy: run --server sends
	// hold.knhk.sig (knhk sign's default output), and the server checks
	// it without anything in its trust directory. One by an untrusted
	// key is refused, naming it.
	if code, _, errs := knhkProc(t, dir, "sign", "--key", "ed25519.key", "hold.knhk"); code != 0 {
		t.Fatal(errs)
	}
	code, _, errs = knhkProc(t, dir, "run", "--server", srv.url, "--workflow", "Inc", "--input-json", "41", "hold.knhk")
	if code == 0 || !strings.Contains(errs, "the signature sent with it: untrusted: signed by ed25519 key") {
		t.Fatalf("untrusted carried signature: %d %q", code, errs)
	}
	os.Remove(filepath.Join(dir, "hold.knhk.sig"))
	if code, _, errs := knhkProc(t, dir, "sign", "--key", "mldsa65-ed25519.key", "hold.knhk"); code != 0 {
		t.Fatal(errs)
	}
	code, out, errs := knhkProc(t, dir, "run", "--server", srv.url, "--workflow", "Inc", "--input-json", "2", "hold.knhk")
	if code != 0 || out == "" {
		t.Fatalf("deploy carrying a trusted signature: %d %q %q", code, out, errs)
	}
	os.Remove(filepath.Join(dir, "hold.knhk.sig"))

	// Signed by an untrusted key in the trust directory: refused.
	if code, _, errs := knhkProc(t, dir, "sign", "--key", "ed25519.key", "-o", "trust/hold.sig", "hold.knhk"); code != 0 {
		t.Fatal(errs)
	}
	code, _, errs = knhkProc(t, dir, "run", "--server", srv.url, "--workflow", "Inc", "--input-json", "41", "hold.knhk")
	if code == 0 || !strings.Contains(errs, "untrusted: signed by ed25519 key") {
		t.Fatalf("untrusted deploy: %d %q", code, errs)
	}
	// Signed by the trusted key: runs.
	if code, _, errs := knhkProc(t, dir, "sign", "--key", "mldsa65-ed25519.key", "--append", "-o", "trust/hold.sig", "hold.knhk"); code != 0 {
		t.Fatal(errs)
	}
	for _, in := range []string{"41", "1", "7"} {
		code, out, errs := knhkProc(t, dir, "run", "--server", srv.url, "--workflow", "Inc", "--input-json", in, "hold.knhk")
		if code != 0 || out == "" {
			t.Fatalf("signed deploy: %d %q %q", code, out, errs)
		}
	}
	if code := srv.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("serve exit %d\n%s", code, srv.log())
	}

	// The deployed descriptor is signed by the server's key.
	ds, _ := filepath.Glob(filepath.Join(dir, "data", "descriptors", "*.ir"))
	if len(ds) != 1 {
		t.Fatalf("descriptors: %v", ds)
	}
	rel, _ := filepath.Rel(dir, ds[0])
	if code, out, errs := knhkProc(t, dir, "verify", "--trust", "trust", rel); code != 0 || !strings.Contains(out, "signed by mldsa65-ed25519") {
		t.Fatalf("verify the deployed descriptor: %d %q %q", code, out, errs)
	}
	// The three cases left receipts, all signed.
	code, out, errs = knhkProc(t, dir, "receipts", "verify", "--data", "data", "--trust", "trust")
	if code != 0 || !strings.Contains(out, "of 4 cases verified") || strings.Contains(out, "not covered") {
		t.Fatalf("receipts verify: %d %q %q", code, out, errs)
	}
}

const unsealSource = `package login

type Creds = { user: string, password: string }

task check(user: string, password: string) -> bool exec "bin/check"

workflow Login(l: Creds) -> bool {
  let ok = check(l.user, l.password)
  return ok
}
`

// knhk serve --unseal-key opens a sealed argument for the task that
// needs it; the server's data directory never holds the secret.
func TestServeUnseal(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "login.knhk"), []byte(unsealSource), 0o644)
	os.Mkdir(filepath.Join(dir, "bin"), 0o755)
	os.WriteFile(filepath.Join(dir, "bin", "check"), []byte("#!/bin/sh\nif grep -q '\"hunter2\"'; then echo true; else echo false; fi\n"), 0o755)
	if code, _, errs := knhkProc(t, dir, "keygen", "--alg", "xwing", "-o", "seal.key"); code != 0 {
		t.Fatal(errs)
	}
	code, sealed, errs := knhkProc(t, dir, "seal", "--to", "seal.key.pub", "--value", "hunter2")
	if code != 0 {
		t.Fatal(errs)
	}
	input := `{"user":"ann","password":"` + strings.TrimSpace(sealed) + `"}`
	srv := startServe(t, dir, "data", "--unseal-key", "seal.key")
	code, out, errs := knhkProc(t, dir, "run", "--server", srv.url, "--input-json", input, "login.knhk")
	if code != 0 || strings.TrimSpace(out) != "true" {
		t.Fatalf("run --server with a sealed input: %d %q %q\n%s", code, out, errs, srv.log())
	}
	if code := srv.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("serve exit %d", code)
	}
	filepath.Walk(filepath.Join(dir, "data"), func(path string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			if b, _ := os.ReadFile(path); strings.Contains(string(b), "hunter2") {
				t.Errorf("%s holds the secret in clear", path)
			}
		}
		return nil
	})
}
