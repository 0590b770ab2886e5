package main

import (
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/knhk/knhk/server/auth"
)

// TestEraseEndToEnd walks the user's path of the right to erasure: two
// tenants with encryption on start cases through knhk serve --tenants;
// one case and one whole tenant are erased through the server; then the
// erased data reads back nowhere (history, export, query, the case
// list, also after a restart), the other cases read as before, the
// refusals are clear (a viewer, another tenant, a running case, a case
// written without encryption), knhk receipts verify and knhk audit
// verify pass, and no byte of the erased inputs or results is left in
// the data directory.
func TestEraseEndToEnd(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "hold.knhk"), []byte(serveSource), 0o644)
	os.WriteFile(filepath.Join(dir, "tok"), []byte("static-secret\n"), 0o600)
	run := func(env []string, args ...string) (int, string, string) {
		t.Helper()
		return knhkEnv(t, dir, env, args...)
	}
	must := func(env []string, args ...string) (string, string) {
		t.Helper()
		code, out, errs := run(env, args...)
		if code != 0 {
			t.Fatalf("knhk %s: %d\n%s\n%s", strings.Join(args, " "), code, out, errs)
		}
		return out, errs
	}
	refused := func(env []string, want string, args ...string) {
		t.Helper()
		code, out, errs := run(env, args...)
		if code == 0 || !strings.Contains(errs, want) {
			t.Fatalf("knhk %s: want a refusal saying %q, got %d\n%s\n%s", strings.Join(args, " "), want, code, out, errs)
		}
	}
	must(nil, "keygen", "--alg", "ed25519", "-o", "sk")
	tok := map[string]string{}
	// acme is encrypted at its creation, beta after it.
	out, _ := must(nil, "tenant", "create", "--data", "data", "--sign-key", "new", "--encrypt", "acme")
	tok["acme"] = "KNHK_TOKEN=" + strings.TrimSpace(out)
	out, _ = must(nil, "tenant", "create", "--data", "data", "--sign-key", "new", "beta")
	tok["beta"] = "KNHK_TOKEN=" + strings.TrimSpace(out)
	must(nil, "case", "encrypt", "--data", "data", "--tenant", "beta")
	viewer, _ := must(nil, "tenant", "token", "--data", "data", "--role", "viewer", "acme")
	root := "KNHK_TOKEN=static-secret"
	srv := startServe(t, dir, "data", "--tenants", "--token-file", "tok", "--sign-key", "sk", "--checkpoint-interval", "50ms")
	caseRe := regexp.MustCompile(`case (\S+)`)
	// start runs Hold(input) and approves it as by: the input and the
	// result ("input by by") are strings, so they would show in the
	// files if they were kept in clear.
	start := func(who, input, by string) string {
		t.Helper()
		_, errs := must([]string{who}, "run", "--server", srv.url, "--workflow", "Hold", "--input-json", `"`+input+`"`, "hold.knhk")
		m := caseRe.FindStringSubmatch(errs)
		if m == nil {
			t.Fatalf("no case id in %q", errs)
		}
		if by != "" {
			must([]string{who}, "signal", "--server", srv.url, m[1], "Approve", `"`+by+`"`)
		}
		return m[1]
	}
	a1 := start(tok["acme"], "secret-acme-one", "approver-acme-one")
	a2 := start(tok["acme"], "secret-acme-two", "approver-acme-two")
	a3 := start(tok["acme"], "secret-acme-running", "") // still waiting
	b1 := start(tok["beta"], "secret-beta-one", "approver-beta-one")
	d1 := start(root, "clear-default-one", "approver-default-one")

	// Live encrypted cases read in clear through the server.
	if out := getCase(t, srv.url, tok["acme"], a1); !strings.Contains(out, "secret-acme-one by approver-acme-one") {
		t.Fatalf("GetCase of a live encrypted case:\n%s", out)
	}
	if out, _ := must([]string{tok["acme"]}, "history", "--json", "--detail", "--server", srv.url, a1); !strings.Contains(out, `"signal"`) {
		t.Fatalf("history of a live encrypted case:\n%s", out)
	}

	// Refusals: a viewer, another tenant's admin, a running case, a case
	// written without encryption.
	refused([]string{"KNHK_TOKEN=" + strings.TrimSpace(viewer)}, "erasure refused (permission_denied): role viewer may not erase data (needs admin)", "case", "erase", "--server", srv.url, a1)
	refused([]string{tok["beta"]}, "erasure refused (not_found): no case "+a1, "case", "erase", "--server", srv.url, a1)
	refused([]string{tok["beta"]}, "erasure refused (not_found): no tenant acme", "case", "erase", "--server", srv.url, "--tenant", "acme", "--all")
	refused([]string{tok["acme"]}, "cannot erase: case "+a3+" is running; cancel it first", "case", "erase", "--server", srv.url, a3)
	refused([]string{root}, "cannot erase: case "+d1+" was written without encryption", "case", "erase", "--server", srv.url, d1)

	// Erase one case of acme and the whole of beta.
	if out, _ := must([]string{tok["acme"]}, "case", "erase", "--server", srv.url, a1); !strings.Contains(out, "case "+a1+" of tenant acme erased (crypto-shredded)") {
		t.Fatalf("erase: %q", out)
	}
	if out, _ := must([]string{tok["beta"]}, "case", "erase", "--server", srv.url, "--tenant", "beta", "--all"); !strings.Contains(out, "tenant beta erased (crypto-shredded): 1 cases") {
		t.Fatalf("tenant erase: %q", out)
	}

	erasedReads := func() {
		t.Helper()
		for _, c := range []struct{ who, id, want string }{
			{tok["acme"], a1, "case " + a1 + " was erased (crypto-shredded)"},
			{tok["beta"], b1, "this tenant's data was erased (crypto-shredded)"},
		} {
			refused([]string{c.who}, c.want, "history", "--server", srv.url, c.id)
			refused([]string{c.who}, c.want, "export", "--server", srv.url, "--csv", c.id)
			refused([]string{c.who}, c.want, "query", "--server", srv.url, c.id)
			if out := getCase(t, srv.url, c.who, c.id); strings.Contains(out, "secret-") || strings.Contains(out, "approver-") || !strings.Contains(out, c.want) || !strings.Contains(out, "completed") {
				t.Fatalf("GetCase after the erasure of %s:\n%s", c.id, out)
			}
		}
		// The other cases read as before.
		if out, _ := must([]string{tok["acme"]}, "history", "--json", "--server", srv.url, a2); !strings.Contains(out, `"signal"`) {
			t.Fatalf("history of a case not erased:\n%s", out)
		}
		if out := getCase(t, srv.url, tok["acme"], a2); !strings.Contains(out, "secret-acme-two by approver-acme-two") {
			t.Fatalf("GetCase of a case not erased:\n%s", out)
		}
		if out, _ := must([]string{tok["acme"]}, "cases", "--server", srv.url, "--json"); !strings.Contains(out, a1) || !strings.Contains(out, a2) || !strings.Contains(out, a3) {
			t.Fatalf("acme's case list:\n%s", out)
		}
		must([]string{tok["acme"]}, "export", "--server", srv.url, "--csv", a2)
		if out, _ := must([]string{root}, "history", "--json", "--server", srv.url, d1); !strings.Contains(out, `"signal"`) {
			t.Fatalf("the default tenant's case:\n%s", out)
		}
	}
	erasedReads()
	// Locally, beside the running server: refused, pointing at --server.
	refused(nil, "erase through it with knhk case erase --server URL", "case", "erase", "--data", "data", "--tenant", "acme", a2)
	// An erased tenant's key is gone: it cannot start a case any more.
	refused([]string{tok["beta"]}, "this tenant's data was erased (crypto-shredded)", "run", "--server", srv.url, "--workflow", "Hold", "--input-json", `"secret-beta-after"`, "hold.knhk")
	if c := srv.stop(t, syscall.SIGTERM); c != 0 {
		t.Fatalf("serve exited %d", c)
	}
	// The erasure survives a restart.
	srv = startServe(t, dir, "data", "--tenants", "--token-file", "tok", "--sign-key", "sk", "--checkpoint-interval", "50ms")
	erasedReads()
	if c := srv.stop(t, syscall.SIGTERM); c != 0 {
		t.Fatalf("serve exited %d", c)
	}

	// No byte of the erased inputs and results is left anywhere, and the
	// live encrypted cases' are not in clear either (log, snapshots,
	// index); the default tenant's case, written in clear, is found by
	// the same scan.
	found := map[string]bool{}
	filepath.WalkDir(filepath.Join(dir, "data"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"secret-acme-one", "approver-acme-one", "secret-beta-one", "approver-beta-one", "secret-beta-after", "secret-acme-two", "approver-acme-two", "secret-acme-running", "clear-default-one"} {
			if strings.Contains(string(b), s) {
				found[s] = true
				if s != "clear-default-one" {
					t.Errorf("%q is still in clear in %s", s, path)
				}
			}
		}
		return nil
	})
	if !found["clear-default-one"] {
		t.Fatal("the scan does not find the default tenant's input written in clear")
	}

	// Every chain and proof still verifies.
	for _, id := range []string{"acme", "beta"} {
		out, _ := must(nil, "receipts", "verify", "--data", filepath.Join("data", "tenants", id, "data"), "--trust", filepath.Join("data", "tenants", id, "sign.pub"))
		if !strings.Contains(out, "every receipt matches its event") {
			t.Fatalf("receipts verify of %s: %q", id, out)
		}
	}
	must(nil, "receipts", "verify", "--data", "data", "--trust", "sk.pub")
	out, _ = must(nil, "audit", "verify", "--data", "data", "--trust", "sk.pub")
	if !strings.Contains(out, "anchors match the chain") {
		t.Fatalf("audit verify: %q", out)
	}
	csv, _ := must(nil, "audit", "export", "--data", "data", "--format", "csv")
	for _, want := range []string{"POST /erase", "case_id=" + a1, "tenant=beta", "CC6.5", "permission_denied"} {
		if !strings.Contains(csv, want) {
			t.Errorf("the audit has no %q", want)
		}
	}

	// Locally: the live case reads, its query is evaluated over its
	// decrypted variables; the default tenant's data is not encrypted,
	// so it cannot be erased.
	acme := filepath.Join("data", "tenants", "acme", "data")
	if out, _ := must(nil, "history", "--json", "--data", acme, a2); !strings.Contains(out, `"signal"`) {
		t.Fatalf("local history of a live case:\n%s", out)
	}
	refused(nil, "cannot erase: tenant default's data was written without encryption", "tenant", "erase", "--data", "data", "default")
	refused(nil, "cannot erase: case "+d1+" was written without encryption", "case", "erase", "--data", "data", d1)
}

// getCase calls GetCase through the Connect JSON API with env's token
// (KNHK_TOKEN=...) and returns the answer, or the error, as it came.
func getCase(t *testing.T, url, env, id string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", url+auth.ServicePath+"GetCase", strings.NewReader(`{"case_id":"`+id+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+strings.TrimPrefix(env, "KNHK_TOKEN="))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestEraseLocalRun: a data directory of knhk run alone, encrypted with
// knhk case encrypt: a case that waits and is signalled (its state
// replayed from the encrypted log) completes with its result in clear
// on the terminal and nowhere in the files; knhk case erase --data
// erases it, its receipts still verify, and it reads back redacted.
func TestEraseLocalRun(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "hold.knhk"), []byte(serveSource), 0o644)
	must := func(args ...string) (string, string) {
		t.Helper()
		code, out, errs := knhkEnv(t, dir, nil, args...)
		if code != 0 {
			t.Fatalf("knhk %s: %d\n%s\n%s", strings.Join(args, " "), code, out, errs)
		}
		return out, errs
	}
	must("keygen", "--alg", "ed25519", "-o", "sk")
	must("case", "encrypt", "--data", "d")
	_, errs := must("run", "--data", "d", "--sign-key", "sk", "--workflow", "Hold", "--input-json", `"local-secret"`, "hold.knhk")
	m := regexp.MustCompile(`case (\S+)`).FindStringSubmatch(errs)
	if m == nil {
		t.Fatalf("no case id in %q", errs)
	}
	id := m[1]
	if out, _ := must("signal", "--data", "d", "--sign-key", "sk", id, "Approve", `"local-approver"`); !strings.Contains(out, "local-secret by local-approver") {
		t.Fatalf("signal: %q", out)
	}
	inFiles := func(s string) bool {
		found := false
		filepath.WalkDir(filepath.Join(dir, "d"), func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				b, _ := os.ReadFile(p)
				found = found || strings.Contains(string(b), s)
			}
			return nil
		})
		return found
	}
	if inFiles("local-secret") || inFiles("local-approver") {
		t.Fatal("a payload of the encrypted directory is in clear")
	}
	if out, _ := must("receipts", "verify", "--data", "d", "--trust", "sk.pub"); !strings.Contains(out, "every receipt matches its event") {
		t.Fatalf("receipts verify: %q", out)
	}
	if out, _ := must("case", "erase", "--data", "d", id); !strings.Contains(out, "case "+id+" erased (crypto-shredded)") {
		t.Fatalf("erase: %q", out)
	}
	if out, _ := must("receipts", "verify", "--data", "d", "--trust", "sk.pub"); !strings.Contains(out, "every receipt matches its event") {
		t.Fatalf("receipts verify after the erasure: %q", out)
	}
	for _, args := range [][]string{{"history", "--json", "--detail", "--data", "d", id}, {"query", "--data", "d", id}} {
		if code, out, errs := knhkEnv(t, dir, nil, args...); code == 0 || strings.Contains(out+errs, "local-") || !strings.Contains(errs, "case "+id+" was erased (crypto-shredded)") {
			t.Fatalf("knhk %s after the erasure: %d\n%s\n%s", args[0], code, out, errs)
		}
	}
	if code, _, errs := knhkEnv(t, dir, nil, "case", "erase", "--data", "d", "c-nosuchcase"); code == 0 || !strings.Contains(errs, "cannot erase: case c-nosuchcase was written without encryption") {
		t.Fatalf("an unknown case: %d %q", code, errs)
	}
}
