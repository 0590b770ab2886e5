package tenant

import (
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
