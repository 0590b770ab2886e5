package main

import (
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTenantRevoke: knhk tenant revoke --jti refuses a token the running
// server accepted before, with an error naming the revocation, and
// --subject refuses a subject's tokens issued up to then but not one
// issued after; bad uses are refused with a usage error.
func TestTenantRevoke(t *testing.T) {
	dir := t.TempDir()
	code, admin, errs := knhkEnv(t, dir, nil, "tenant", "create", "--data", "data", "acme")
	m := regexp.MustCompile(`token id ([0-9a-f]{32}) `).FindStringSubmatch(errs)
	if code != 0 || m == nil {
		t.Fatalf("create: %d %q", code, errs)
	}
	admin, jti := strings.TrimSpace(admin), m[1]
	token := func(subject string) string {
		t.Helper()
		code, tok, errs := knhkEnv(t, dir, nil, "tenant", "token", "--data", "data", "--subject", subject, "acme")
		if code != 0 || !strings.Contains(errs, "knhk tenant revoke --jti ") {
			t.Fatalf("token: %d %q", code, errs)
		}
		return strings.TrimSpace(tok)
	}
	bob := token("bob")
	srv := startServe(t, dir, "data", "--tenants")
	defer srv.stop(t, syscall.SIGTERM)
	cases := func(tok string) (int, string) {
		code, _, errs := knhkEnv(t, dir, []string{"KNHK_TOKEN=" + tok}, "cases", "--server", srv.url, "--json")
		return code, errs
	}
	for _, tok := range []string{admin, bob} {
		if code, errs := cases(tok); code != 0 {
			t.Fatalf("before revoking: %d %q", code, errs)
		}
	}
	refusedEventually := func(tok, want string) {
		t.Helper()
		var errs string
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			var code int
			if code, errs = cases(tok); code != 0 {
				break
			}
		}
		if !strings.Contains(errs, want) {
			t.Fatalf("want a refusal containing %q, got %q\n%s", want, errs, srv.log())
		}
	}
	if code, _, errs := knhkEnv(t, dir, nil, "tenant", "revoke", "--data", "data", "--jti", jti, "acme"); code != 0 || !strings.Contains(errs, "revoked token "+jti) {
		t.Fatalf("revoke --jti: %d %q", code, errs)
	}
	refusedEventually(admin, "token revoked: token "+jti+" of tenant acme was revoked")
	if code, errs := cases(bob); code != 0 {
		t.Fatalf("bob after the admin's revocation: %q", errs)
	}
	if code, _, errs := knhkEnv(t, dir, nil, "tenant", "revoke", "--data", "data", "--subject", "bob", "acme"); code != 0 {
		t.Fatalf("revoke --subject: %d %q", code, errs)
	}
	revokedAt := time.Now().Unix()
	refusedEventually(bob, "the tokens of subject bob of tenant acme issued up to")
	// A token issued in a later second is good (iat counts seconds).
	for time.Now().Unix() <= revokedAt {
		time.Sleep(20 * time.Millisecond)
	}
	if code, errs := cases(token("bob")); code != 0 {
		t.Fatalf("bob's new token: %q", errs)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"acme"}, 1, "exactly one of --jti ID, --subject S and --cert-serial HEX"},
		{[]string{"--jti", "x", "--subject", "y", "acme"}, 1, "exactly one of"},
		{[]string{"--jti", "x", "nobody"}, 1, "no tenant nobody"},
	} {
		code, _, errs := knhkEnv(t, dir, nil, append([]string{"tenant", "revoke", "--data", "data"}, c.args...)...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("revoke %v: %d %q", c.args, code, errs)
		}
	}
}
