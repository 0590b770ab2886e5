// This file implements the FSM's state hash incrementally: the Byzantine
// mode commits it as every block's application hash, and encoding and
// hashing the whole FSM there made each block cost O(all cases).
//
// The hash stays a function of the state alone (state sync checks a
// received snapshot against it, and two replicas with equal states
// agree whatever their histories): each case has a digest of what a
// snapshot holds of it, and the set of case digests is combined with a
// lattice hash (LtHash, Bellare–Micciancio; as in Facebook's "Securing
// update propagation with homomorphic hashing"): each element is
// expanded with SHAKE128 to 1024 16-bit lanes and the lanes are added
// mod 2^16, so replacing one case's digest costs two expansions, and
// finding two different sets with one sum is as hard as a lattice
// problem (a plain sum or XOR of SHA-256s is not collision resistant).
// The remembered request ids, a bounded FIFO, are a second such set
// whose elements are chained (each names the one before it) so that the
// order counts too. The rest (program, members, deploys) is small and
// hashed whole each time. The tenancy, one-time keys, audit chain and
// accelerator time are hashed as statehash_ext.go says.

package cluster

import (
	"crypto/sha256"
	"crypto/sha3"
	"encoding/binary"
	"encoding/json"
	"hash"
)

// ltLanes is the number of 16-bit lanes of an LtHash (2048 bytes).
const ltLanes = 1024

// ltHash is a multiset hash: add and sub of an element are O(1) and
// commute.
type ltHash [ltLanes]uint16

// expand writes element d's lanes into v.
func expand(tag string, d *[sha256.Size]byte, v *[2 * ltLanes]byte) {
	x := sha3.NewSHAKE128()
	x.Write([]byte(tag))
	x.Write(d[:])
	x.Read(v[:])
}

func (h *ltHash) add(tag string, d *[sha256.Size]byte) {
	var v [2 * ltLanes]byte
	expand(tag, d, &v)
	for i := range h {
		h[i] += binary.LittleEndian.Uint16(v[2*i:])
	}
}

func (h *ltHash) sub(tag string, d *[sha256.Size]byte) {
	var v [2 * ltLanes]byte
	expand(tag, d, &v)
	for i := range h {
		h[i] -= binary.LittleEndian.Uint16(v[2*i:])
	}
}

// write appends h's lanes to w.
func (h *ltHash) write(w hash.Hash) {
	var b [2 * ltLanes]byte
	for i, l := range h {
		binary.LittleEndian.PutUint16(b[2*i:], l)
	}
	w.Write(b[:])
}

// The tags separate the two sets' elements.
const (
	tagCase = "knhk-cluster-case-v1"
	tagReq  = "knhk-cluster-req-v1"
)

// caseDigest is the digest of a case as a snapshot holds it; evs is
// the chain over its events (see eventChain).
type caseDigest struct {
	d   [sha256.Size]byte
	evs [sha256.Size]byte
	n   int // events folded into evs
}

// stateHasher holds the FSM's incremental hash. It is valid for the
// FSM's state while restores equals the FSM's restore count; a restore
// (which replaces every map) or a failure makes the next StateHash
// rebuild it from the state.
type stateHasher struct {
	valid    bool
	restores uint64
	cases    ltHash
	digests  map[string]*caseDigest
	dirty    map[string]struct{}
	reqs     ltHash
}

// touchCase records that case id may change: its digest is computed
// again at the next StateHash. f.mu is held for writing.
func (f *FSM) touchCase(id string) {
	if f.sh.valid {
		f.sh.dirty[id] = struct{}{}
	}
}

// rememberHash updates the hash of the request ids for remember(id, o),
// called before it changes f.order and f.reqs: with a full FIFO the
// oldest id goes and the next one becomes the first. f.mu is held for
// writing.
func (f *FSM) rememberHash(id string, o outcome, limit int) {
	s := &f.sh
	if !s.valid || f.restores != s.restores {
		return
	}
	order := f.order
	if len(order) >= limit && len(order) > 0 {
		s.reqs.sub(tagReq, reqDigest("", order[0], f.reqs[order[0]]))
		if len(order) > 1 {
			s.reqs.sub(tagReq, reqDigest(order[0], order[1], f.reqs[order[1]]))
			s.reqs.add(tagReq, reqDigest("", order[1], f.reqs[order[1]]))
		}
		order = order[1:]
	}
	prev := ""
	if len(order) > 0 {
		prev = order[len(order)-1]
	}
	s.reqs.add(tagReq, reqDigest(prev, id, o))
}

// reqDigest is the element of request id, which follows prev in the
// FIFO ("" for the first).
func reqDigest(prev, id string, o outcome) *[sha256.Size]byte {
	w := sha256.New()
	writeString(w, prev)
	writeString(w, id)
	writeUint(w, o.Index)
	writeString(w, o.Err)
	var d [sha256.Size]byte
	w.Sum(d[:0])
	return &d
}

// StateHash returns a hash of the FSM's state: everything its snapshot
// holds (program, applied index, cases with their states, events, keys
// and programs, remembered requests in order, members, deploys,
// tenancy, one-time keys, audit chain, accelerator time), equal
// on replicas whose states are equal, however they got there. The
// Byzantine mode commits it as the application hash of each block. It
// costs O(cases changed since the last call), not O(all cases).
func (f *FSM) StateHash() ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := &f.sh
	if !s.valid || s.restores != f.restores {
		if err := f.rebuildHash(); err != nil {
			return nil, err
		}
	}
	for id := range s.dirty {
		if err := f.rehashCase(id); err != nil {
			s.valid = false
			return nil, err
		}
	}
	clear(s.dirty)
	// Keep the sets up from here on, while they are still empty too.
	f.ten.digest()
	f.nonces.digest()
	f.ers.digest()
	ext := !f.extEmpty()
	w := sha256.New()
	if ext {
		writeString(w, stateHashV3)
	} else {
		writeString(w, stateHashV2)
	}
	writeString(w, f.prog)
	writeUint(w, f.applied)
	writeUint(w, uint64(len(f.cases)))
	s.cases.write(w)
	writeUint(w, uint64(len(f.order)))
	s.reqs.write(w)
	members := make([]*Member, 0, len(f.members))
	for _, id := range sortedKeys(f.members) {
		members = append(members, f.members[id])
	}
	b, err := json.Marshal(members)
	if err != nil {
		return nil, err
	}
	writeBytes(w, b)
	writeUint(w, uint64(len(f.deploys)))
	for _, h := range f.deploys {
		p := f.progs[h]
		writeString(w, h)
		writeString(w, p.name)
		writeUint(w, p.index)
		src := sha256.Sum256([]byte(p.src))
		w.Write(src[:])
	}
	if ext {
		f.writeExt(w)
	}
	return w.Sum(nil), nil
}

// rebuildHash computes the hash of every case and request from the
// state; f.mu is held for writing.
func (f *FSM) rebuildHash() error {
	f.sh = stateHasher{restores: f.restores, digests: make(map[string]*caseDigest, len(f.cases)), dirty: map[string]struct{}{}}
	for id := range f.cases {
		if err := f.rehashCase(id); err != nil {
			return err
		}
	}
	prev := ""
	for _, id := range f.order {
		f.sh.reqs.add(tagReq, reqDigest(prev, id, f.reqs[id]))
		prev = id
	}
	f.sh.valid = true
	return nil
}

// rehashCase replaces case id's element with its current digest (or
// removes it when the FSM does not hold the case); f.mu is held for
// writing.
func (f *FSM) rehashCase(id string) error {
	s := &f.sh
	old := s.digests[id]
	if old != nil {
		s.cases.sub(tagCase, &old.d)
	}
	r := f.cases[id]
	if r == nil {
		delete(s.digests, id)
		return nil
	}
	st, err := f.machineOf(r).EncodeState(&r.s, r.n)
	if err != nil {
		return err
	}
	cd := old
	if cd == nil || cd.n > len(r.evs) {
		cd = &caseDigest{}
	}
	cd.evs, cd.n = eventChain(cd.evs, cd.n, r.evs)
	w := sha256.New()
	writeString(w, id)
	writeBytes(w, st)
	writeUint(w, uint64(r.started))
	writeString(w, r.key)
	writeUint(w, r.base)
	writeString(w, r.prog)
	writeUint(w, uint64(cd.n))
	w.Write(cd.evs[:])
	w.Sum(cd.d[:0])
	s.digests[id] = cd
	s.cases.add(tagCase, &cd.d)
	return nil
}

// eventChain extends the chain c over evs[n:]: each link hashes the
// one before with an event's index and data, so a case's events are
// hashed once each, in order, and the chain is a function of the list.
func eventChain(c [sha256.Size]byte, n int, evs []Event) ([sha256.Size]byte, int) {
	for _, e := range evs[n:] {
		w := sha256.New()
		w.Write(c[:])
		writeUint(w, e.Index)
		writeBytes(w, e.Data)
		w.Sum(c[:0])
	}
	return c, len(evs)
}

func writeUint(w hash.Hash, n uint64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	w.Write(b[:])
}

// writeBytes writes b with its length first, so that no two field
// sequences encode alike.
func writeBytes(w hash.Hash, b []byte) {
	writeUint(w, uint64(len(b)))
	w.Write(b)
}

func writeString(w hash.Hash, s string) {
	writeUint(w, uint64(len(s)))
	w.Write([]byte(s))
}
