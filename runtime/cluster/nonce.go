// This file implements replay protection in the replicated log: a
// write carries its request's one-time keys (the tenant's request nonce
// and one-time token, as the front verified them) into the first
// command it proposes, and the FSM refuses a command whose key an
// earlier command used. Every replica holds the same keys, so a request
// captured on one node and replayed to another is refused wherever it
// lands, a new leader's included, where each node's own guard (the
// front's, server/tenant's replay.go) knows only the calls it received.
//
// A client that timed out may send the very same request again, nonce
// and all. The first use of a key records what it was bound to (Bind, a
// digest of the caller and the request's bytes, and the command's
// request id), so the retry of an idempotent request (one with a
// request id) is told apart from a replay with another purpose: the
// retry gets the first attempt's outcome, the replay is refused.

package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// ErrReplay is wrapped by the refusal of a command whose one-time key
// an earlier command used.
var ErrReplay = errors.New("replayed request")

// Nonce is the one-time keys a write's first command carries.
type Nonce struct {
	// Keys are the request's one-time keys (a tenant and its request
	// nonce, a one-time token's id): each is accepted once.
	Keys []string `json:"keys"`
	// At is the request's time and Until when it goes stale (Unix
	// nanoseconds): after Until every node's guard refuses it, so the
	// FSM may forget its keys.
	At    int64 `json:"at"`
	Until int64 `json:"until"`
	// Bind is the digest of the request the keys were sent with (its
	// caller and its bytes; server/tenant's requestBinding), "" when
	// the front did not take one: then any second use is a replay.
	Bind string `json:"bind,omitempty"`
}

// nonceClaim is a request's Nonce, taken by the first command it
// proposes.
type nonceClaim struct {
	n    Nonce
	used atomic.Bool
}

type nonceKey struct{}

// WithNonce returns ctx carrying the one-time keys of the request it
// serves, bound to the request's digest bind, timed at and stale after
// until: the first command the request proposes carries them into the
// log.
func WithNonce(ctx context.Context, keys []string, bind string, at, until time.Time) context.Context {
	if len(keys) == 0 {
		return ctx
	}
	return context.WithValue(ctx, nonceKey{}, &nonceClaim{n: Nonce{Keys: keys, Bind: bind, At: at.UnixNano(), Until: until.UnixNano()}})
}

// takeNonce returns ctx's Nonce the first time it is asked, nil after
// (and without one).
func takeNonce(ctx context.Context) *Nonce {
	c, _ := ctx.Value(nonceKey{}).(*nonceClaim)
	if c == nil || !c.used.CompareAndSwap(false, true) {
		return nil
	}
	n := c.n
	return &n
}

// CarryNonce returns to carrying the one-time keys of from (a request's
// context), if any and not yet taken: the Byzantine mode's driver
// proposes a request's commands under a context of its own, and the
// first of them takes the keys into the chain.
func CarryNonce(to, from context.Context) context.Context {
	c, _ := from.Value(nonceKey{}).(*nonceClaim)
	if c == nil {
		return to
	}
	return context.WithValue(to, nonceKey{}, c)
}

// ClaimNonce puts ctx's one-time keys, if not yet taken, on c: a
// proposer other than a [Node] (the Byzantine mode's driver) calls it
// on each command it proposes.
func ClaimNonce(ctx context.Context, c *Command) { claimNonce(ctx, c) }

// claimNonce puts ctx's Nonce, if not yet taken, on c.
func claimNonce(ctx context.Context, c *Command) {
	if c.Nonce == nil {
		c.Nonce = takeNonce(ctx)
	}
}

// nonceForget is how long past its Until, in the time of the newest
// request the log carried, a key is kept: the nodes' clocks may lag.
const nonceForget = time.Minute

// nonceSet is the FSM's used keys.
type nonceSet struct {
	seen map[string]int64 // key -> Until
	// binds are what the keys used by an idempotent request were bound
	// to, by key: a key absent here was used by a request without a
	// request id or a digest, and any second use of it is a replay.
	binds  map[string]NonceBind
	newest int64 // the newest At the log carried
	adds   int
	// sum is the state hash's set of keys (statehash_ext.go).
	sum setSum
}

// NonceBind is what a key's first use was bound to: the request's
// digest and the id of the request its command carried out.
type NonceBind struct {
	Bind string `json:"bind"`
	Req  string `json:"req"`
}

// useNonce refuses n, the keys of a command of request req, when one of
// its keys was used by another request, else records them. A command
// whose every key was used by a request of the same digest and request
// id, whose outcome the FSM still holds, is that request's retry: it is
// let through, records nothing, and the request id's outcome answers it
// (Apply). f.mu is held. It decides from the log alone (the times and
// digests the commands carry), so every replica decides alike.
func (f *FSM) useNonce(n *Nonce, req string) error {
	if n == nil {
		return nil
	}
	s := &f.nonces
	if s.seen == nil {
		s.seen = map[string]int64{}
	}
	retry := 0
	for _, k := range n.Keys {
		if _, ok := s.seen[k]; !ok {
			continue
		}
		if b, ok := s.binds[k]; ok && n.Bind != "" && req != "" && b == (NonceBind{Bind: n.Bind, Req: req}) {
			if _, ok := f.reqs[req]; ok {
				retry++
				continue
			}
		}
		return fmt.Errorf("%w: its one-time key was already used (the cluster's log has it: %s)", ErrReplay, printableKey(k))
	}
	if retry > 0 {
		if retry != len(n.Keys) {
			// Some keys new, some the request's: not one request sent
			// again, but its key put on another.
			return fmt.Errorf("%w: its one-time keys were used apart (the cluster's log has %d of %d)", ErrReplay, retry, len(n.Keys))
		}
		return nil
	}
	for _, k := range n.Keys {
		if _, ok := s.seen[k]; !ok { // a key twice in one request counts once
			s.hashKey(k, n.Until, true)
		}
		s.seen[k] = n.Until
		if n.Bind != "" && req != "" {
			s.putBind(k, NonceBind{Bind: n.Bind, Req: req})
		}
	}
	s.newest = max(s.newest, n.At)
	if s.adds++; s.adds >= 1024 {
		s.adds = 0
		for k, until := range s.seen {
			if until+int64(nonceForget) < s.newest {
				s.hashKey(k, until, false)
				delete(s.seen, k)
				s.dropBind(k)
			}
		}
	}
	return nil
}

// printableKey shows a key's tenant and nonce, not the NUL between.
func printableKey(k string) string { return strings.ReplaceAll(k, "\x00", " ") }

// wireNonces is a snapshot's nonceSet: a follower that catches up from
// a snapshot, and may lead next, refuses the keys used before it.
// Adds is the count toward the next sweep of stale keys: without it a
// restored replica would sweep at other entries than the others, and
// for a while refuse a key they accept.
type wireNonces struct {
	Seen   map[string]int64     `json:"seen"`
	Binds  map[string]NonceBind `json:"binds,omitempty"`
	Newest int64                `json:"newest"`
	Adds   int                  `json:"adds,omitempty"`
}

func (s *nonceSet) wire() *wireNonces {
	if len(s.seen) == 0 && s.newest == 0 && s.adds == 0 {
		return nil
	}
	w := &wireNonces{Seen: make(map[string]int64, len(s.seen)), Newest: s.newest, Adds: s.adds}
	for k, v := range s.seen {
		w.Seen[k] = v
	}
	if len(s.binds) > 0 {
		w.Binds = make(map[string]NonceBind, len(s.binds))
		for k, v := range s.binds {
			w.Binds[k] = v
		}
	}
	return w
}

func (w *wireNonces) restore() nonceSet {
	if w == nil {
		return nonceSet{}
	}
	return nonceSet{seen: w.Seen, binds: w.Binds, newest: w.Newest, adds: w.Adds}
}
