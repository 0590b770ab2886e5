package tenant

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
	"github.com/knhk/knhk/server/auth"
)

// listErr is the error of a ListPrograms call of c.
func listErr(c knhkv1connect.KnhkServiceClient) error {
	_, err := c.ListPrograms(context.Background(), connect.NewRequest(&knhkv1.ListProgramsRequest{}))
	return err
}

// waitRefused waits (generously) for a running server to reread the
// revocation list and refuse c, and returns the refusal.
func waitRefused(t *testing.T, c knhkv1connect.KnhkServiceClient) error {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := listErr(c)
		if err != nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestRevokeToken: a token accepted (and cached) before its id is
// revoked is refused once the running server rereads the tenant's list,
// with an error naming the revocation; other tokens of the tenant, and a
// token of another tenant with the same id, are not.
func TestRevokeToken(t *testing.T) {
	f := newFixture(t, nil)
	victim := f.client(f.priv(auth.Principal{Subject: "ann", Tenant: "acme", Role: auth.RoleAdmin, ID: "tok-1"}))
	other := f.client(f.priv(auth.Principal{Subject: "ann", Tenant: "acme", Role: auth.RoleAdmin, ID: "tok-2"}))
	beta := f.client(f.priv(auth.Principal{Subject: "ann", Tenant: "beta", Role: auth.RoleAdmin, ID: "tok-1"}))
	for _, c := range []knhkv1connect.KnhkServiceClient{victim, other, beta} {
		if err := listErr(c); err != nil {
			t.Fatal(err)
		}
	}
	r, err := LoadRevocations(f.data, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.RevokeToken("tok-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := r.Save(f.data, "acme"); err != nil {
		t.Fatal(err)
	}
	err = waitRefused(t, victim)
	if connect.CodeOf(err) != connect.CodeUnauthenticated || !strings.Contains(err.Error(), "token revoked: token tok-1 of tenant acme was revoked") {
		t.Fatalf("the revoked token: %v", err)
	}
	if err := listErr(other); err != nil {
		t.Fatalf("another token of the tenant: %v", err)
	}
	if err := listErr(beta); err != nil {
		t.Fatalf("another tenant's token with the same id: %v", err)
	}
}

// TestRevokeSubject: revoking a subject refuses its tokens issued up to
// then, not one issued after, nor another subject's.
func TestRevokeSubject(t *testing.T) {
	f := newFixture(t, nil)
	priv, err := IssuerKey(f.data)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	issue := func(sub string, at time.Time) knhkv1connect.KnhkServiceClient {
		tok, err := auth.Issue(priv, Issuer, auth.Principal{Subject: sub, Tenant: "acme", Role: auth.RoleViewer}, time.Hour, at)
		if err != nil {
			t.Fatal(err)
		}
		return f.client(tok)
	}
	old := issue("bob", now.Add(-10*time.Second))
	later := issue("bob", now.Add(5*time.Second))
	carol := issue("carol", now.Add(-10*time.Second))
	if err := listErr(old); err != nil {
		t.Fatal(err)
	}
	r, _ := LoadRevocations(f.data, "acme")
	if err := r.RevokeSubject("bob", now); err != nil {
		t.Fatal(err)
	}
	if err := r.Save(f.data, "acme"); err != nil {
		t.Fatal(err)
	}
	if err := waitRefused(t, old); err == nil || !strings.Contains(err.Error(), "the tokens of subject bob of tenant acme issued up to") {
		t.Fatalf("bob's old token: %v", err)
	}
	if err := listErr(later); err != nil {
		t.Fatalf("bob's token issued after the revocation: %v", err)
	}
	if err := listErr(carol); err != nil {
		t.Fatalf("carol's token: %v", err)
	}
}

// TestRevocationsRefused: a malformed list is refused with the file and
// offset, and a running server keeps the list it had.
func TestRevocationsRefused(t *testing.T) {
	for _, bad := range []string{
		`{"version":1,"tokens":[{"jti":""}]}`,
		`{"version":2}`,
		`{"version":1,"subjects":[{"subject":""}]}`,
		`{"version":1,"extra":true}`,
		`{"version":1} {}`,
		`{"version":1,"tokens":[{"jti":"x","revoked":"yesterday"}]}`,
		`[`,
	} {
		if _, err := parseRevocations("revoked.json", []byte(bad)); err == nil || !strings.Contains(err.Error(), "revoked.json") {
			t.Errorf("%s: %v", bad, err)
		}
	}
	f := newFixture(t, nil)
	victim := f.client(f.priv(auth.Principal{Subject: "ann", Tenant: "acme", Role: auth.RoleAdmin, ID: "tok-1"}))
	r, _ := LoadRevocations(f.data, "acme")
	r.RevokeToken("tok-1", time.Now())
	if err := r.Save(f.data, "acme"); err != nil {
		t.Fatal(err)
	}
	if err := waitRefused(t, victim); err == nil {
		t.Fatal("not refused")
	}
	if err := os.WriteFile(RevocationsPath(f.data, "acme"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	f.host.reloadRevocations()
	if err := listErr(victim); err == nil {
		t.Fatal("a malformed list dropped the revocations read before it")
	}
}

// FuzzRevocations: any input either parses into a list that saves and
// parses back the same, or is refused with an error; never a panic.
func FuzzRevocations(f *testing.F) {
	f.Add([]byte(`{"version":1,"tokens":[{"jti":"a","revoked":"2026-01-01T00:00:00Z"}],"subjects":[{"subject":"s","before":"2026-01-01T00:00:00Z"}]}`))
	f.Add([]byte(`{"version":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseRevocations("revoked.json", b)
		if err != nil {
			return
		}
		data := t.TempDir()
		if err := r.Save(data, "acme"); err != nil {
			t.Fatal(err)
		}
		r2, err := LoadRevocations(data, "acme")
		if err != nil {
			t.Fatalf("a saved list does not load: %v", err)
		}
		for _, tk := range r.Tokens {
			if r2.Check(auth.Principal{Tenant: "acme", ID: tk.ID}) == nil {
				t.Fatalf("token %q not revoked after a round trip", tk.ID)
			}
		}
	})
}

// TestRevokedAuditExport: a revoked admin token is refused by the routes
// that authenticate their caller themselves (the audit export), not only
// by the API.
func TestRevokedAuditExport(t *testing.T) {
	f, url := consoleFixture(t)
	tok := f.priv(auth.Principal{Subject: "alice", Tenant: "acme", Role: auth.RoleAdmin, ID: "adm-1"})
	export := func() (int, string) {
		req, _ := http.NewRequest("GET", url+AuditExportPath+"?format=json", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := export(); code != http.StatusOK {
		t.Fatalf("export before revoking: %d %s", code, body)
	}
	r, _ := LoadRevocations(f.data, "acme")
	r.RevokeToken("adm-1", time.Now())
	if err := r.Save(f.data, "acme"); err != nil {
		t.Fatal(err)
	}
	code, body := export()
	for deadline := time.Now().Add(20 * time.Second); code == http.StatusOK && time.Now().Before(deadline); code, body = export() {
		time.Sleep(10 * time.Millisecond)
	}
	if code != http.StatusUnauthorized || !strings.Contains(body, "token revoked") {
		t.Fatalf("export with a revoked token: %d %s", code, body)
	}
}
