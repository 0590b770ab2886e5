// This file implements the cache of converted case variables: a loop
// over a list reads the list on every iteration (its length in the
// test, one element in the body), and converting the whole list to an
// eval.Value at each read made every iteration cost O(len(list)).

package host

import (
	"sync"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
)

// minCached is the length from which a list (or a map's keys) is worth
// caching; shorter ones convert faster than a lookup contends.
const minCached = 32

// convCache remembers the eval.Value of the last few large lists and
// maps read from case variables. An entry is keyed by the identity of
// the engine's slice (its first element's address and its length) and
// the type it was read as. That is sound because the engine never
// mutates a value once it is in a variable (see engine.State.Clone), and
// because the entry holds the slice, so that its memory cannot be
// reused for another list while the entry exists.
type convCache struct {
	mu   sync.Mutex
	ents [8]convEntry
	next int // the entry to replace next
}

type convEntry struct {
	p   *ir.Program
	t   ir.TypeID
	src []any
	v   eval.Value
}

// fromEngine is [FromEngine], through the cache for large lists and
// maps.
func (c *convCache) fromEngine(p *ir.Program, x any, t ir.TypeID) (eval.Value, error) {
	l, ok := x.([]any)
	if !ok || !worthCaching(p, l, t) {
		return FromEngine(p, x, t)
	}
	c.mu.Lock()
	for i := range c.ents {
		if e := &c.ents[i]; e.p == p && e.t == t && len(e.src) == len(l) && &e.src[0] == &l[0] {
			v := e.v
			c.mu.Unlock()
			return v, nil
		}
	}
	c.mu.Unlock()
	v, err := FromEngine(p, x, t)
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	c.ents[c.next] = convEntry{p: p, t: t, src: l, v: v}
	c.next = (c.next + 1) % len(c.ents)
	c.mu.Unlock()
	return v, nil
}

// remember records that x, the engine form of v just made by ToEngine
// for a result of type t, is v: when the engine hands it back (the case
// variable it was assigned to, read by the next evaluation), v is reused
// instead of converted again, and with it what compiled code derived
// from it (eval.Value.Memo).
func (c *convCache) remember(p *ir.Program, t ir.TypeID, x any, v eval.Value) {
	l, ok := x.([]any)
	if !ok || !worthCaching(p, l, t) {
		return
	}
	c.mu.Lock()
	c.ents[c.next] = convEntry{p: p, t: t, src: l, v: v}
	c.next = (c.next + 1) % len(c.ents)
	c.mu.Unlock()
}

// worthCaching reports whether l, read as type t, is a list or map
// large enough to cache.
func worthCaching(p *ir.Program, l []any, t ir.TypeID) bool {
	switch p.KindOf(t) {
	case ir.KindList:
		return len(l) >= minCached
	case ir.KindMap:
		keys, ok := l[0].([]any)
		return len(l) == 2 && ok && len(keys) >= minCached
	}
	return false
}
