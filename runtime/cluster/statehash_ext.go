// This file implements the state hash of what the FSM holds besides
// cases, requests, members and deploys: the tenancy (tenancy.go), the
// requests' one-time keys (nonce.go), the audit chain (audit.go), the
// accelerator time (meter.go) and the erased cases' tombstones
// (erase.go). Version 2 of the hash left them out,
// so two Byzantine replicas that differed there agreed on every block's
// application hash, and a snapshot fetched by state sync could carry
// any of them unchecked.
//
// Each part is kept as cheaply as the case digests: the tenancy's files
// and founders and the one-time keys with their bindings are LtHash
// sets (see statehash.go) updated per file or key changed; the accelerator time is a chain over
// its entries, extended as they are appended; the audit chain is
// already one (each record's hash covers every field and the record
// before), so its head and length stand for it.
//
// A state that holds none of them hashes exactly as version 2 did, so
// the blocks of every existing chain (whose driver proposes only events
// without nonces or accelerator time) replay to the hashes their
// headers hold: CometBFT replays the blocks after a validator's saved
// state and stops at the first hash that differs, so a version that
// changed every hash would stop every existing validator on restart. A
// state that holds any of them hashes as version 3, whose tag differs,
// so no such state can hash like a version 2 state.

package cluster

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
)

// The tags of the sets' elements.
const (
	tagTenancyFile = "knhk-cluster-tenancy-file-v1"
	tagFounder     = "knhk-cluster-founder-v1"
	tagNonce       = "knhk-cluster-nonce-v1"
	tagNonceBind   = "knhk-cluster-nonce-bind-v1"
	tagAccel       = "knhk-cluster-accel-v1"
)

// The hash's versions: v2 for a state without the parts below, v3 with.
const (
	stateHashV2 = "knhk-cluster-state-v2"
	stateHashV3 = "knhk-cluster-state-v3"
)

// setSum is an LtHash kept up as a set changes, valid once computed
// from the whole set: a restore leaves it invalid and the next
// StateHash computes it.
type setSum struct {
	valid bool
	h     ltHash
}

// put adds (or with add false removes) element d when the sum is kept.
func (s *setSum) put(tag string, d *[sha256.Size]byte, add bool) {
	switch {
	case !s.valid:
	case add:
		s.h.add(tag, d)
	default:
		s.h.sub(tag, d)
	}
}

// pairDigest is the element of a key and a value.
func pairDigest(k string, v []byte) *[sha256.Size]byte {
	w := sha256.New()
	writeString(w, k)
	writeBytes(w, v)
	var d [sha256.Size]byte
	w.Sum(d[:0])
	return &d
}

// hashFile adds (or removes) tenancy file p with content b.
func (t *tenancyState) hashFile(p string, b []byte, add bool) {
	t.sum.put(tagTenancyFile, pairDigest(p, b), add)
}

// hashFounder adds the founder of tenant id.
func (t *tenancyState) hashFounder(id, node string) {
	t.sum.put(tagFounder, pairDigest(id, []byte(node)), true)
}

// digest returns the set hash of t's files and founders.
func (t *tenancyState) digest() *ltHash {
	if !t.sum.valid {
		t.sum = setSum{valid: true}
		for p, b := range t.files {
			t.hashFile(p, b, true)
		}
		for id, node := range t.founders {
			t.hashFounder(id, node)
		}
	}
	return &t.sum.h
}

// hashKey adds (or removes) one-time key k, stale after until.
func (s *nonceSet) hashKey(k string, until int64, add bool) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(until))
	s.sum.put(tagNonce, pairDigest(k, b[:]), add)
}

// bindDigest is the element of key k's binding b.
func bindDigest(k string, b NonceBind) *[sha256.Size]byte {
	w := sha256.New()
	writeString(w, k)
	writeString(w, b.Bind)
	writeString(w, b.Req)
	var d [sha256.Size]byte
	w.Sum(d[:0])
	return &d
}

// putBind records (replaces) key k's binding.
func (s *nonceSet) putBind(k string, b NonceBind) {
	if s.binds == nil {
		s.binds = map[string]NonceBind{}
	}
	s.dropBind(k)
	s.binds[k] = b
	s.sum.put(tagNonceBind, bindDigest(k, b), true)
}

// dropBind forgets key k's binding, if any.
func (s *nonceSet) dropBind(k string) {
	if b, ok := s.binds[k]; ok {
		s.sum.put(tagNonceBind, bindDigest(k, b), false)
		delete(s.binds, k)
	}
}

// digest returns the set hash of s's keys and bindings.
func (s *nonceSet) digest() *ltHash {
	if !s.sum.valid {
		s.sum = setSum{valid: true}
		for k, until := range s.seen {
			s.hashKey(k, until, true)
		}
		for k, b := range s.binds {
			s.sum.put(tagNonceBind, bindDigest(k, b), true)
		}
	}
	return &s.sum.h
}

// chainEntry extends the accelerator log's chain with entry e; add
// calls it for every entry, a restore's included, so the chain is a
// function of the entries in order.
func (a *accelLog) chainEntry(e *accelEntry) {
	w := sha256.New()
	writeString(w, tagAccel)
	w.Write(a.chain[:])
	writeUint(w, e.Index)
	writeString(w, e.Month)
	writeUint(w, uint64(e.NS))
	writeUint(w, uint64(e.Calls))
	w.Sum(a.chain[:0])
}

// extEmpty reports whether the FSM holds none of this file's parts:
// its state then hashes as version 2. f.mu is held.
func (f *FSM) extEmpty() bool {
	t, n := &f.ten, &f.nonces
	return t.rev == 0 && len(t.files) == 0 && len(t.founders) == 0 &&
		len(n.seen) == 0 && len(n.binds) == 0 && n.newest == 0 && n.adds == 0 &&
		len(f.aud.recs) == 0 && len(f.acc.entries) == 0 && len(f.ers.at) == 0
}

// writeExt writes this file's parts to w; f.mu is held for writing.
func (f *FSM) writeExt(w hash.Hash) {
	t := &f.ten
	writeUint(w, t.rev)
	writeUint(w, uint64(len(t.files)))
	writeUint(w, uint64(len(t.founders)))
	t.digest().write(w)
	n := &f.nonces
	writeUint(w, uint64(len(n.seen)))
	writeUint(w, uint64(len(n.binds)))
	writeUint(w, uint64(n.newest))
	writeUint(w, uint64(n.adds))
	n.digest().write(w)
	head := f.aud.head()
	writeUint(w, uint64(len(f.aud.recs)))
	w.Write(head[:])
	writeUint(w, uint64(len(f.acc.entries)))
	w.Write(f.acc.chain[:])
	writeUint(w, uint64(len(f.ers.at)))
	f.ers.digest().write(w) // erase.go
}
