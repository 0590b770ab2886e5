package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestServeAudit walks an auditor's path: the admin CLI and every call
// of knhk serve --tenants --sign-key are audited; a viewer's export is
// refused with a clear error, an admin's is not; after the server stops,
// knhk receipts verify and knhk audit verify pass offline with the
// signer's public key, the exported report verifies on its own, and a
// record changed in the log is named.
func TestServeAudit(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "hold.knhk"), []byte(serveSource), 0o644)
	os.WriteFile(filepath.Join(dir, "tok"), []byte("static-secret\n"), 0o600)
	must := func(env []string, args ...string) string {
		t.Helper()
		code, out, errs := knhkEnv(t, dir, env, args...)
		if code != 0 {
			t.Fatalf("knhk %s: %d\n%s\n%s", strings.Join(args, " "), code, out, errs)
		}
		return out
	}
	must(nil, "keygen", "--alg", "ed25519", "-o", "sk")
	admin := strings.TrimSpace(must(nil, "tenant", "create", "--data", "data", "acme"))
	viewer := strings.TrimSpace(must(nil, "tenant", "token", "--data", "data", "--role", "viewer", "acme"))
	srv := startServe(t, dir, "data", "--tenants", "--token-file", "tok", "--sign-key", "sk", "--checkpoint-interval", "50ms")
	if out := must([]string{"KNHK_TOKEN=" + admin}, "run", "--server", srv.url, "--workflow", "Inc", "--input-json", "41", "hold.knhk"); !strings.Contains(out, "42") {
		t.Fatalf("run: %q", out)
	}
	must([]string{"KNHK_TOKEN=static-secret"}, "run", "--server", srv.url, "--workflow", "Inc", "--input-json", "1", "hold.knhk")
	code, _, errs := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + viewer}, "audit", "export", "--server", srv.url)
	if code != 1 || !strings.Contains(errs, "audit export refused (permission_denied): role viewer may not export the audit log (needs admin)") {
		t.Fatalf("viewer's export: %d %q", code, errs)
	}
	out := must([]string{"KNHK_TOKEN=" + admin}, "audit", "export", "--server", srv.url, "--format", "csv")
	if !strings.Contains(out, "acme,alice") && !strings.Contains(out, ",acme,") || !strings.Contains(out, "StartCase") || strings.Contains(out, "static") {
		t.Fatalf("acme's csv export:\n%s", out)
	}
	if c := srv.stop(t, syscall.SIGTERM); c != 0 {
		t.Fatalf("serve exited %d", c)
	}

	if out := must(nil, "receipts", "verify", "--data", "data", "--trust", "sk.pub"); !strings.Contains(out, "every receipt matches its event") {
		t.Fatalf("receipts verify: %q", out)
	}
	out = must(nil, "audit", "verify", "--data", "data", "--trust", "sk.pub")
	if !strings.Contains(out, "anchors match the chain") || !strings.Contains(out, "are in the receipt checkpoint") {
		t.Fatalf("audit verify: %q", out)
	}
	must(nil, "audit", "export", "--data", "data", "--format", "html", "-o", "ev.html")
	if out := must(nil, "audit", "verify", "--evidence", "ev.html", "--trust", "sk.pub"); !strings.Contains(out, "are in the receipt checkpoint") {
		t.Fatalf("verify --evidence: %q", out)
	}
	csv := must(nil, "audit", "export", "--data", "data", "--format", "csv")
	for _, want := range []string{"knhk tenant create", "tenant=acme", "CC6.2", "knhk tenant token", "GET /audit/export", "permission_denied", "StartCase", "static", "knhk serve start", "knhk serve stop"} {
		if !strings.Contains(csv, want) {
			t.Errorf("the export has no %q:\n%s", want, csv)
		}
	}
	// Another key is refused; a record changed is named.
	must(nil, "keygen", "--alg", "ed25519", "-o", "other")
	if code, _, errs := knhkEnv(t, dir, nil, "audit", "verify", "--data", "data", "--trust", "other.pub"); code != 1 || !strings.Contains(errs, "not trusted") {
		t.Fatalf("another key: %d %q", code, errs)
	}
	path := filepath.Join(dir, "data", "audit", "log")
	b, _ := os.ReadFile(path)
	b = bytes.Replace(b, []byte(`"subject":"static"`), []byte(`"subject":"mallory"`), 1)
	os.WriteFile(path, b, 0o644)
	code, _, errs = knhkEnv(t, dir, nil, "audit", "verify", "--data", "data", "--trust", "sk.pub")
	if code != 1 || !strings.Contains(errs, "first bad record:") || !strings.Contains(errs, "was changed") {
		t.Fatalf("tampered log: %d %q", code, errs)
	}
	if code, _, errs := knhkEnv(t, dir, nil, "audit", "export", "--data", "data", "--format", "pdf"); code != 1 || !strings.Contains(errs, `unknown --format "pdf"`) {
		t.Fatalf("bad format: %d %q", code, errs)
	}
}
