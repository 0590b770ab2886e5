package tenant

import (
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/sign"
	"github.com/knhk/knhk/server/auth"
)

// TestConsoleSession: a knhk token, too big for a cookie, is posted once
// to the login route; the server answers with a short HttpOnly,
// SameSite=Strict session cookie (Secure only over TLS) that reaches the
// tenant's console data, ends at the token's expiry, is refused once the
// token is revoked, and is forgotten at logout.
func TestConsoleSession(t *testing.T) {
	ck, err := sign.Generate(auth.TokenAlg)
	if err != nil {
		t.Fatal(err)
	}
	f := newFixtureWith(t, nil, func(o *Options) {
		o.Verifier.(*auth.Verifier).Signers = sign.NewTrustSet(ck.Public())
	})
	tok, err := auth.IssueSigned(ck, Issuer, "", auth.Principal{Subject: "ann", Tenant: "acme", Role: auth.RoleViewer, ID: "s-1"}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) < 4096 {
		t.Fatalf("a knhk token of %d bytes: the test wants one too big for a cookie", len(tok))
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	post := func(path, body string) *http.Response {
		t.Helper()
		resp, err := c.Post(f.url+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	get := func(path string) int {
		t.Helper()
		resp, err := c.Get(f.url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("/console/api/whoami"); code != http.StatusUnauthorized {
		t.Fatalf("console data before login: %d", code)
	}
	// Refused logins open no session.
	for _, body := range []string{`{"token":"knhk1.bad.sig"}`, `not json`, `{"token":""}`} {
		if resp := post(LoginPath, body); resp.StatusCode == http.StatusOK || len(resp.Cookies()) != 0 {
			t.Fatalf("login %s: %d %v", body, resp.StatusCode, resp.Cookies())
		}
	}
	body, _ := json.Marshal(loginRequest{Token: tok})
	resp := post(LoginPath, string(body))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	var who loginView
	if err := json.NewDecoder(resp.Body).Decode(&who); err != nil || who.Tenant != "acme" || who.Subject != "ann" || who.Role != "viewer" {
		t.Fatalf("login answered %+v, %v", who, err)
	}
	var sc *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == SessionCookie {
			sc = ck
		}
	}
	switch {
	case sc == nil:
		t.Fatal("no session cookie")
	case len(sc.Value) > 64 || strings.Contains(tok, sc.Value):
		t.Fatalf("the cookie is not a short session id: %d bytes", len(sc.Value))
	case !sc.HttpOnly || sc.Secure || sc.SameSite != http.SameSiteStrictMode || sc.Path != "/":
		t.Fatalf("cookie attributes: %+v", sc)
	case sc.Expires.After(time.Now().Add(time.Hour+time.Minute)) || sc.Expires.Before(time.Now().Add(50*time.Minute)):
		t.Fatalf("the session lasts until %v, not the token's expiry", sc.Expires)
	}
	if code := get("/console/api/whoami"); code != http.StatusOK {
		t.Fatalf("console data with the session: %d", code)
	}
	// The session is the viewer's: no more.
	if code := get("/audit/export"); code == http.StatusOK {
		t.Fatalf("an admin page with a viewer's session: %d", code)
	}
	f.host.sessions.mu.Lock()
	n := len(f.host.sessions.m)
	f.host.sessions.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d sessions kept", n)
	}

	// Logout forgets it server-side: the old cookie replayed is refused.
	if resp := post(LogoutPath, ""); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	u, _ := url.Parse(f.url)
	jar.SetCookies(u, []*http.Cookie{{Name: SessionCookie, Value: sc.Value, Path: "/"}})
	resp2, err := c.Get(f.url + "/console/api/whoami")
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a logged-out session: %d", resp2.StatusCode)
	}

	// A session of a revoked token is refused.
	if resp := post(LoginPath, string(body)); resp.StatusCode != http.StatusOK {
		t.Fatalf("second login: %d", resp.StatusCode)
	}
	r, _ := LoadRevocations(f.data, "acme")
	r.RevokeToken("s-1", time.Now())
	if err := r.Save(f.data, "acme"); err != nil {
		t.Fatal(err)
	}
	f.host.reloadRevocations()
	if code := get("/console/api/whoami"); code != http.StatusUnauthorized {
		t.Fatalf("the session of a revoked token: %d", code)
	}
	if resp := post(LoginPath, string(body)); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("login with a revoked token: %d", resp.StatusCode)
	}
}

// TestSessionExpiry: a session ends at its token's expiry.
func TestSessionExpiry(t *testing.T) {
	var s sessions
	now := time.Now()
	id, until := s.open(auth.Principal{Tenant: "acme", Expires: now.Add(time.Minute)}, now)
	if !until.Equal(now.Add(time.Minute)) {
		t.Fatalf("until %v", until)
	}
	if _, ok := s.get(id, now.Add(59*time.Second)); !ok {
		t.Fatal("ended early")
	}
	if _, ok := s.get(id, now.Add(time.Minute)); ok {
		t.Fatal("outlived its token")
	}
	if _, ok := s.get("forged", now); ok {
		t.Fatal("an unknown id")
	}
}
