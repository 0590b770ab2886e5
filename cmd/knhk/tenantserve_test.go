package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// knhkEnv runs the knhk binary in dir with env added to the process's.
func knhkEnv(t *testing.T, dir string, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(knhkBinary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), append([]string{"KNHK_TOKEN=", "KNHK_TOKEN_FILE=", "XDG_CONFIG_HOME=" + filepath.Join(dir, "noconfig")}, env...)...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

// mustKnhkIn returns a runner of the knhk binary in dir that fails t
// unless the command succeeds, and answers its trimmed stdout.
func mustKnhkIn(t *testing.T, dir string) func(args ...string) string {
	return func(args ...string) string {
		t.Helper()
		code, out, errs := knhkEnv(t, dir, nil, args...)
		if code != 0 {
			t.Fatalf("knhk %s: %d %s", strings.Join(args, " "), code, errs)
		}
		return strings.TrimSpace(out)
	}
}

// TestServeTenants walks an operator's path: knhk serve --tenants beside
// --token-file, knhk tenant create prints an admin token that the CLI
// passes from KNHK_TOKEN, a config file or KNHK_TOKEN_FILE; tenants see
// only their own cases; a viewer cannot start one; suspend and delete
// take effect on the running server; the --token-file token still works,
// as the default tenant.
func TestServeTenants(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hold.knhk"), []byte(serveSource), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "tok"), []byte("static-secret\n"), 0o600)
	create := func(id string, extra ...string) string {
		t.Helper()
		code, out, errs := knhkEnv(t, dir, nil, append([]string{"tenant", "create", "--data", "data", id}, extra...)...)
		if code != 0 || !strings.Contains(errs, "created tenant "+id) || strings.Count(out, ".") != 2 {
			t.Fatalf("tenant create %s: %d %q %q", id, code, out, errs)
		}
		return strings.TrimSpace(out)
	}
	acme := create("acme")
	srv := startServe(t, dir, "data", "--tenants", "--token-file", "tok")
	defer srv.stop(t, syscall.SIGTERM)
	beta := create("beta") // created while the server runs
	if code, _, errs := knhkEnv(t, dir, nil, "tenant", "create", "--data", "data", "acme"); code != 1 || !strings.Contains(errs, "tenant acme exists") {
		t.Fatalf("create twice: %d %q", code, errs)
	}

	run := func(env []string, input string) (int, string, string) {
		return knhkEnv(t, dir, env, "run", "--server", srv.url, "--workflow", "Inc", "--input-json", input, "hold.knhk")
	}
	if code, out, errs := run([]string{"KNHK_TOKEN=" + acme}, "41"); code != 0 || !strings.Contains(out, "42") {
		t.Fatalf("acme runs: %d %q %q", code, out, errs)
	}
	// A config file holds beta's token.
	cfg := filepath.Join(dir, "cfg")
	os.MkdirAll(filepath.Join(cfg, "knhk"), 0o700)
	os.WriteFile(filepath.Join(cfg, "knhk", "token"), []byte(beta+"\n"), 0o600)
	if code, out, errs := run([]string{"XDG_CONFIG_HOME=" + cfg}, "1"); code != 0 || !strings.Contains(out, "2") {
		t.Fatalf("beta runs from its config file: %d %q %q", code, out, errs)
	}
	cases := func(env ...string) (int, string, string) {
		return knhkEnv(t, dir, env, "cases", "--server", srv.url, "--json")
	}
	_, aCases, _ := cases("KNHK_TOKEN=" + acme)
	_, bCases, _ := cases("XDG_CONFIG_HOME=" + cfg)
	if strings.Count(aCases, `"Inc"`) != 1 || strings.Count(bCases, `"Inc"`) != 1 || aCases == bCases {
		t.Fatalf("each tenant lists its own case:\nacme %s\nbeta %s", aCases, bCases)
	}
	// Each tenant's /metrics counts its own cases only: acme's one Inc
	// case, not beta's.
	if code, body := srv.get(t, "/metrics", acme); code != 200 || !strings.Contains(body, `knhk_cases{status="completed",workflow="Inc"} 1`) {
		t.Fatalf("acme's metrics: %d\n%s", code, body)
	}
	if code, _ := srv.get(t, "/metrics", ""); code != 401 {
		t.Fatalf("metrics without a token: %d", code)
	}
	// The --token-file token is the default tenant's admin: none of them.
	if code, out, errs := cases("KNHK_TOKEN=static-secret"); code != 0 || strings.Contains(out, `"Inc"`) {
		t.Fatalf("default tenant: %d %q %q", code, out, errs)
	}
	if code, _, errs := cases(); code == 0 || !strings.Contains(errs, "missing bearer token") {
		t.Fatalf("no token: %d %q", code, errs)
	}
	// A viewer token from a file cannot start cases.
	code, viewer, errs := knhkEnv(t, dir, nil, "tenant", "token", "--data", "data", "--role", "viewer", "acme")
	if code != 0 {
		t.Fatalf("tenant token: %d %q", code, errs)
	}
	os.WriteFile(filepath.Join(dir, "viewer.tok"), []byte(viewer), 0o600)
	if code, _, errs := run([]string{"KNHK_TOKEN_FILE=viewer.tok"}, "1"); code == 0 || !strings.Contains(errs, "role viewer may not call") {
		t.Fatalf("viewer runs: %d %q", code, errs)
	}
	if code, _, errs := run([]string{"KNHK_TOKEN_FILE=nope.tok"}, "1"); code == 0 || !strings.Contains(errs, "nope.tok") {
		t.Fatalf("missing token file: %d %q", code, errs)
	}

	// Suspend and delete reach the running server within its reload.
	eventually := func(what string, ok func() bool) {
		t.Helper()
		for i := 0; i < 100 && !ok(); i++ {
			time.Sleep(50 * time.Millisecond)
		}
		if !ok() {
			t.Fatalf("%s: not within 5s\n%s", what, srv.log())
		}
	}
	if code, _, errs := knhkEnv(t, dir, nil, "tenant", "suspend", "--data", "data", "acme"); code != 0 {
		t.Fatalf("suspend: %q", errs)
	}
	eventually("suspended", func() bool {
		_, _, errs := cases("KNHK_TOKEN=" + acme)
		return strings.Contains(errs, "tenant acme is suspended")
	})
	knhkEnv(t, dir, nil, "tenant", "resume", "--data", "data", "acme")
	eventually("resumed", func() bool { code, _, _ := cases("KNHK_TOKEN=" + acme); return code == 0 })
	code, out, _ := knhkEnv(t, dir, nil, "tenant", "list", "--data", "data")
	if code != 0 || !strings.Contains(out, "acme") || !strings.Contains(out, "beta") || !strings.Contains(out, "active") {
		t.Fatalf("list: %q", out)
	}
	if code, _, errs := knhkEnv(t, dir, nil, "tenant", "delete", "--data", "data", "acme"); code != 0 || !strings.Contains(errs, "deleted") {
		t.Fatalf("delete: %q", errs)
	}
	eventually("erased", func() bool {
		_, err := os.Stat(filepath.Join(dir, "data", "tenants", "acme"))
		return errors.Is(err, os.ErrNotExist)
	})
	if _, _, errs := cases("KNHK_TOKEN=" + acme); !strings.Contains(errs, "tenant acme does not exist") {
		t.Fatalf("deleted tenant's token: %q", errs)
	}
	if code, _, errs := knhkEnv(t, dir, nil, "tenant", "create", "--data", "data", "Bad/Id"); code != 1 || !strings.Contains(errs, `bad tenant id "Bad/Id"`) {
		t.Fatalf("bad id: %d %q", code, errs)
	}
	if code := srv.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("serve exit %d\n%s", code, srv.log())
	}
}
