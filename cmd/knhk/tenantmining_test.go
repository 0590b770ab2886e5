// This file tests std/mining under knhk serve --tenants: a tenant's
// cases mine only that tenant's history.

package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// TestServeTenantsMining: acme's cases make acme's history and acme's
// query answers from it; beta, on the same server, cannot see acme's
// cases: its query about one fails as about an unknown case.
func TestServeTenantsMining(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{"flow.knhk": minedFlow, "ask.knhk": minedAsk} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "tok"), []byte("static-secret\n"), 0o600)
	token := map[string]string{}
	for _, id := range []string{"acme", "beta"} {
		code, out, errs := knhkEnv(t, dir, nil, "tenant", "create", "--data", "data", id)
		if code != 0 {
			t.Fatalf("tenant create %s: %d %q", id, code, errs)
		}
		token[id] = "KNHK_TOKEN=" + strings.TrimSpace(out)
	}
	srv := startServe(t, dir, "data", "--tenants", "--token-file", "tok")
	defer srv.stop(t, syscall.SIGTERM)
	as := func(tenant string, args ...string) (int, string, string) {
		return knhkEnv(t, dir, []string{token[tenant]}, append([]string{args[0], "--server", srv.url}, args[1:]...)...)
	}
	waitingGo := regexp.MustCompile(`case (c-[0-9a-f]{16}) is waiting for signal Go`)
	start := func(x string) string {
		t.Helper()
		code, _, errs := as("acme", "run", "--input-json", x, "flow.knhk")
		m := waitingGo.FindStringSubmatch(errs)
		if code != 0 || m == nil {
			t.Fatalf("acme's flow.knhk %s: %d %q", x, code, errs)
		}
		return m[1]
	}
	var odd string
	for _, x := range minedOrder { // the odd case among the usual ones
		id := start(x)
		if code, _, errs := as("acme", "signal", id, "Go"); code != 0 {
			t.Fatalf("acme's signal: %d %q", code, errs)
		}
		if x == "99" {
			odd = id
		}
	}
	w := start("9")
	code, out, errs := as("acme", "run", "--workflow", "Ask", "--input-json", `"`+w+`"`, "ask.knhk")
	if code != 0 || !regexp.MustCompile(`"trained_on": ?10`).MatchString(out) || !regexp.MustCompile(`"next": ?"signal Go"`).MatchString(out) {
		t.Fatalf("acme asks about its own case: %d %s %q", code, out, errs)
	}
	if code, out, errs := as("acme", "run", "--workflow", "Flag", "--input-json", `"`+odd+`"`, "ask.knhk"); code != 0 || strings.TrimSpace(out) != "true" {
		t.Errorf("acme's Flag(its odd case): %d %s %q, want true", code, out, errs)
	}
	code, _, errs = as("beta", "run", "--workflow", "Flag", "--input-json", `"`+odd+`"`, "ask.knhk")
	if code != 1 || !strings.Contains(errs, "task mining.anomaly: unknown case "+odd) {
		t.Errorf("beta asks about acme's case: %d %q, want an unknown case", code, errs)
	}
}
