package tenant

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/knhk/knhk/server/auth"
)

// countingVerifier verifies "tenant/n" tokens and counts its signature
// checks: a call the cache answers costs none.
type countingVerifier struct{ n map[string]int }

func (v *countingVerifier) Verify(tok string) (auth.Principal, error) {
	t, _, ok := strings.Cut(tok, "/")
	if !ok {
		return auth.Principal{}, fmt.Errorf("bad token %q", tok)
	}
	v.n[t]++
	return auth.Principal{Tenant: t, Subject: tok, Role: auth.RoleOperator}, nil
}

// TestTokenCacheFair: a tenant minting far more tokens than the cache
// holds evicts only its own; another tenant's cached tokens stay
// cached, and the cache stays bounded.
func TestTokenCacheFair(t *testing.T) {
	v := &countingVerifier{n: map[string]int{}}
	var c tokenCache
	now := time.Unix(1e9, 0)
	quiet := []string{"quiet/1", "quiet/2", "quiet/3"}
	for _, tok := range quiet {
		if _, err := c.verify(v, tok, now); err != nil {
			t.Fatal(err)
		}
	}
	// Ten other tenants fill their share, and one floods far past it.
	for i := 0; i < 10; i++ {
		for j := 0; j < tokenCacheTenant; j++ {
			c.verify(v, fmt.Sprintf("t%d/%d", i, j), now)
		}
	}
	for j := 0; j < 3*tokenCacheMax; j++ {
		c.verify(v, fmt.Sprintf("noisy/%d", j), now)
	}
	before := v.n["quiet"]
	for _, tok := range quiet {
		p, err := c.verify(v, tok, now.Add(time.Second))
		if err != nil || p.Tenant != "quiet" {
			t.Fatalf("%s: %v %v", tok, p, err)
		}
	}
	if v.n["quiet"] != before {
		t.Fatalf("the flood of noisy tokens evicted the quiet tenant's: %d signature checks after it", v.n["quiet"]-before)
	}
	if len(c.m) > tokenCacheMax || len(c.by["noisy"]) > tokenCacheTenant {
		t.Fatalf("cache holds %d entries, the noisy tenant %d (bounds %d, %d)", len(c.m), len(c.by["noisy"]), tokenCacheMax, tokenCacheTenant)
	}
	n := 0
	for _, toks := range c.by {
		n += len(toks)
	}
	if n != len(c.m) {
		t.Fatalf("per-tenant index holds %d tokens, the cache %d", n, len(c.m))
	}
	// Expired entries still go the verifier's way.
	before = v.n["quiet"]
	c.verify(v, quiet[0], now.Add(2*tokenCacheTTL))
	if v.n["quiet"] != before+1 {
		t.Fatal("an expired cached token was not verified again")
	}
}

// clockVerifier verifies any token as tenant acme's, with the given
// expiry, and refuses it once its clock passes that expiry, as a real
// verifier does with a token's exp.
type clockVerifier struct {
	now, exp time.Time
	n        int
}

func (v *clockVerifier) Verify(tok string) (auth.Principal, error) {
	v.n++
	if !v.now.Before(v.exp) {
		return auth.Principal{}, fmt.Errorf("token %s expired at %v", tok, v.exp)
	}
	return auth.Principal{Tenant: "acme", Subject: "ann", ID: tok, Role: auth.RoleAdmin, Expires: v.exp}, nil
}

// TestTokenCacheGuards: a cached token is refused once its own exp has
// passed, though the cache would keep it for tokenCacheTTL, and once
// its tenant's list revokes it, though it was cached before; a cached
// call costs no signature check. (A suspended tenant's cached token is
// refused by the Host's check of the tenant's state on every call,
// TestRefusals.)
func TestTokenCacheGuards(t *testing.T) {
	now := time.Now()
	v := &clockVerifier{now: now, exp: now.Add(10 * time.Second)}
	c := tokenCache{revoked: &revocations{}}
	if _, err := c.verify(v, "tok-1", now); err != nil {
		t.Fatal(err)
	}
	if _, err := c.verify(v, "tok-1", now.Add(5*time.Second)); err != nil || v.n != 1 {
		t.Fatalf("a cached token within its exp: %v after %d signature checks, want none after the first", err, v.n)
	}
	v.now = now.Add(11 * time.Second)
	if _, err := c.verify(v, "tok-1", v.now); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("a cached token past its exp (within the cache's %v): %v", tokenCacheTTL, err)
	}

	v = &clockVerifier{now: now, exp: now.Add(time.Hour)}
	if _, err := c.verify(v, "tok-2", now); err != nil {
		t.Fatal(err)
	}
	r := &Revocations{}
	if err := r.RevokeToken("tok-2", now); err != nil {
		t.Fatal(err)
	}
	c.revoked.m = map[string]*revEntry{"acme": {r: r}}
	_, err := c.verify(v, "tok-2", now.Add(time.Second))
	if !errors.Is(err, ErrRevoked) || v.n != 1 {
		t.Fatalf("a cached token revoked since: %v (%d signature checks), want refused from the cache", err, v.n)
	}
}
