// This file implements the cache of verified tokens.

package tenant

import (
	"sync"
	"time"

	"github.com/knhk/knhk/server/auth"
)

// tokenCache remembers the tokens verified in the last minute (never past
// their exp), so that a tenant hammering the server at its rate limit
// costs a map lookup per refused call rather than a signature check.
// Suspension and deletion are checked per call apart from it.
//
// Its room is shared fairly: each tenant holds at most tokenCacheTenant
// entries and, when the whole cache is full, room is taken from the
// tenant holding the most. A tenant minting tokens without end thus
// evicts only its own, never another tenant's (which would cost every
// one of that tenant's calls a signature check again).
//
// revoked, when set, is checked on every call, cached or not, so that
// every path that verifies a token (API calls, console login, audit
// export, erasure) refuses a revoked one (revoke.go).
type tokenCache struct {
	mu      sync.Mutex
	m       map[string]cached
	by      map[string]map[string]struct{} // tenant -> its cached tokens
	revoked *revocations
}

type cached struct {
	p     auth.Principal
	until time.Time
}

const (
	tokenCacheTTL    = time.Minute
	tokenCacheMax    = 10000 // entries in all
	tokenCacheTenant = 1000  // entries of one tenant
)

func (c *tokenCache) verify(v interface {
	Verify(string) (auth.Principal, error)
}, tok string, now time.Time) (auth.Principal, error) {
	c.mu.Lock()
	e, ok := c.m[tok]
	c.mu.Unlock()
	if ok && now.Before(e.until) {
		return e.p, c.revoked.check(e.p)
	}
	p, err := v.Verify(tok)
	if err != nil {
		return p, err
	}
	if err := c.revoked.check(p); err != nil {
		return p, err
	}
	until := now.Add(tokenCacheTTL)
	if !p.Expires.IsZero() && p.Expires.Before(until) {
		until = p.Expires
	}
	c.mu.Lock()
	c.put(tok, cached{p, until}, now)
	c.mu.Unlock()
	return p, nil
}

// put caches tok, making room first from its own tenant's entries when
// that tenant is at its bound, else from the largest tenant's when the
// cache is full. The caller holds mu.
func (c *tokenCache) put(tok string, e cached, now time.Time) {
	if c.m == nil {
		c.m, c.by = map[string]cached{}, map[string]map[string]struct{}{}
	}
	if _, ok := c.m[tok]; ok {
		c.m[tok] = e
		return
	}
	t := e.p.Tenant
	switch {
	case len(c.by[t]) >= tokenCacheTenant:
		c.evict(t, now)
	case len(c.m) >= tokenCacheMax:
		big, n := "", 0
		for id, toks := range c.by {
			if len(toks) > n {
				big, n = id, len(toks)
			}
		}
		c.evict(big, now)
	}
	if c.by[t] == nil {
		c.by[t] = map[string]struct{}{}
	}
	c.by[t][tok] = struct{}{}
	c.m[tok] = e
}

// evict drops tenant t's expired entries, or one of them (the map's
// order: at random) when none has expired. The caller holds mu.
func (c *tokenCache) evict(t string, now time.Time) {
	toks := c.by[t]
	var first string
	dropped := false
	for tok := range toks {
		if first == "" {
			first = tok
		}
		if !now.Before(c.m[tok].until) {
			c.drop(t, tok)
			dropped = true
		}
	}
	if !dropped && first != "" {
		c.drop(t, first)
	}
}

func (c *tokenCache) drop(t, tok string) {
	delete(c.m, tok)
	delete(c.by[t], tok)
	if len(c.by[t]) == 0 {
		delete(c.by, t)
	}
}
