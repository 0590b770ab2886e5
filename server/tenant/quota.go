// This file implements a tenant's quotas: a token bucket over its API
// calls and a cap on its running cases.

package tenant

import (
	"fmt"
	"sync"
	"time"
)

// bucket is a token bucket: rate tokens a second, at most burst held.
//
// Callers refused while it is empty are given successive turns, 1/rate
// apart, rather than all the time of the next token: a tenant's clients
// that retry when told then come back one per token instead of all at
// once for the same one, so a tenant at its limit costs about one refusal
// per call it makes rather than one per client per token.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
	turn   time.Time // the next turn to hand out to a refused caller
}

// maxTurnAhead bounds how far ahead turns are handed out, so that a
// crowd of callers that went away does not push a newcomer's hint out
// without end.
const maxTurnAhead = 10 * time.Second

func newBucket(q Quota, now time.Time) *bucket {
	if q.Rate <= 0 {
		return nil
	}
	b := float64(q.Burst)
	if b < 1 {
		b = max(1, q.Rate) // a second's worth
	}
	return &bucket{rate: q.Rate, burst: b, tokens: b, last: now}
}

// take takes one token, or says how long until one is there.
func (b *bucket) take(now time.Time) (bool, time.Duration) {
	if b == nil {
		return true, 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if d := now.Sub(b.last).Seconds(); d > 0 {
		b.tokens = min(b.burst, b.tokens+d*b.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	step := time.Duration(float64(time.Second) / b.rate)
	next := now.Add(time.Duration((1 - b.tokens) / b.rate * float64(time.Second)))
	if b.turn.After(next) {
		next = b.turn
	}
	if next.Sub(now) > maxTurnAhead {
		next = now.Add(maxTurnAhead)
	}
	b.turn = next.Add(step)
	return false, next.Sub(now)
}

// runningCap admits a start while the tenant's running cases plus the
// starts admitted but not yet counted stay under max. It reads the
// running count (O(1) on a single server: server.Service.Running) only
// when the bound it keeps may reach max.
type runningCap struct {
	max   int        // 0: no cap
	count func() int // the cases running now
	// exact recounts at every start: a tenant's group on a cluster,
	// whose cases other nodes start while another leads, so that a
	// bound kept here would miss them.
	exact   bool
	mu      sync.Mutex
	pending int // admitted, not yet released
	bound   int // running at the last count plus starts admitted since
}

// ErrQuota is wrapped by every refusal of a tenant's quota.
var ErrQuota = fmt.Errorf("tenant quota")

// setMax changes the cap (0: none).
func (c *runningCap) setMax(n int) {
	c.mu.Lock()
	c.max = n
	c.bound = n // recount at the next start
	c.mu.Unlock()
}

func (c *runningCap) admit(tenant string) (func(), error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.max > 0 {
		if c.exact || c.bound+1 > c.max {
			c.bound = c.count() + c.pending
		}
		if c.bound+1 > c.max {
			return nil, fmt.Errorf("%w max_running (%d) reached for tenant %s: a case must end before another starts", ErrQuota, c.max, tenant)
		}
	}
	c.bound++
	c.pending++
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			c.pending--
			c.mu.Unlock()
		})
	}, nil
}
