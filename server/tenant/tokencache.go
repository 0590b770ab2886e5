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
type tokenCache struct {
	mu sync.Mutex
	m  map[string]cached
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
		return e.p, nil
	}
	p, err := v.Verify(tok)
	if err != nil {
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
