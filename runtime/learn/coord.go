// This file implements the coordination of routes that share a
// resource: every call a route starts on a task counts against that task
// until its outcome is learned, and a coordinated route sees the count
// of each of its candidates as part of its features. Two routes that
// both send work to the same service thus learn that it is slow when it
// is busy, and spread their load.

package learn

import (
	"sync"
	"sync/atomic"
)

// coordinator counts the running calls of each resource (task or
// workflow name).
type coordinator struct {
	load map[string]*atomic.Int64 // fixed at Open: read without locks
}

// loads returns the running calls of each of names.
func (c *coordinator) loads(names []string) []int {
	out := make([]int, len(names))
	for i, n := range names {
		if l := c.load[n]; l != nil {
			out[i] = int(max(0, l.Load()))
		}
	}
	return out
}

func (c *coordinator) add(name string, d int64) {
	if l := c.load[name]; l != nil {
		l.Add(d)
	}
}

// pendingCap bounds the decisions remembered per context and choice: a
// case that ends without an outcome (it was cancelled, or the process
// stopped) leaves its entry, and the oldest go first.
const pendingCap = 64

// pendingKey identifies decisions whose outcome may come later.
type pendingKey struct {
	features string
	choice   int
}

// decision is what a coordinated route must remember from a decision
// to learn from its outcome: the loads it saw.
type decision struct {
	loads []int
}

// pendingSet holds the decisions awaiting their outcome, oldest first
// per key: outcomes of equal features and choice are interchangeable.
type pendingSet struct {
	mu sync.Mutex
	m  map[pendingKey][]decision
}

func (p *pendingSet) push(k pendingKey, d decision) {
	p.mu.Lock()
	q := p.m[k]
	if len(q) == pendingCap {
		q = q[1:]
	}
	p.m[k] = append(q, d)
	p.mu.Unlock()
}

// pop returns the oldest decision for k, false when none is known (the
// process restarted between the decision and its outcome).
func (p *pendingSet) pop(k pendingKey) (decision, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	q := p.m[k]
	if len(q) == 0 {
		return decision{}, false
	}
	d := q[0]
	if len(q) == 1 {
		delete(p.m, k)
	} else {
		p.m[k] = q[1:]
	}
	return d, true
}
