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
// revoked, when set, is checked on every call, cached or not, so that
// every path that verifies a token (API calls, console login, audit
// export, erasure) refuses a revoked one (revoke.go).
type tokenCache struct {
	mu      sync.Mutex
	m       map[string]cached
	revoked *revocations
}

type cached struct {
	p     auth.Principal
	until time.Time
}

const (
	tokenCacheTTL = time.Minute
	tokenCacheMax = 10000 // entries; the cache is emptied when full
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
	if c.m == nil || len(c.m) >= tokenCacheMax {
		c.m = map[string]cached{}
	}
	c.m[tok] = cached{p, until}
	c.mu.Unlock()
	return p, nil
}
