// This file implements the erasure of one case (OpErase): every replica
// drops the case's state and events and keeps a tombstone, so that no
// node's API reads the case back and no later command revives it. On a
// node whose raft data is sealed per case (a CaseSealer, atrestcase.go)
// the erasure then shreds the node's copy on disk: the node snapshots
// without the case, drops the log entries before the snapshot, and
// destroys its key of the case, so that whatever is left of the case in
// its log segments and older snapshots is ciphertext no key opens.

package cluster

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/knhk/knhk/runtime/engine"
)

// ErrErased wraps the error of reading, or writing to, an erased case.
var ErrErased = errors.New("case erased")

// ErrNotErasable wraps the refusal of an erasure: the case is running,
// or the node's raft data is not sealed per case.
var ErrNotErasable = errors.New("case cannot be erased")

// erasures are the FSM's tombstones.
type erasures struct {
	at map[string]uint64 // case -> the raft index of its erasure
	// hook, when set, is told of every erasure applied or restored
	// (the node's shredder); it must not block.
	hook func(id string)
	// sum is the set hash of at, for the state hash
	// (statehash_ext.go).
	sum setSum
}

// tagErased tags a tombstone in the state hash.
const tagErased = "knhk-cluster-erased-v1"

// hashTomb adds case id's tombstone, erased at index, to the set hash.
func (e *erasures) hashTomb(id string, index uint64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], index)
	e.sum.put(tagErased, pairDigest(id, b[:]), true)
}

// digest returns the set hash of the tombstones.
func (e *erasures) digest() *ltHash {
	if !e.sum.valid {
		e.sum = setSum{valid: true}
		for id, i := range e.at {
			e.hashTomb(id, i)
		}
	}
	return &e.sum.h
}

// applyErase erases case id at index; erasing it again is no error.
// f.mu is held. Every replica decides alike: a running case is refused.
func (f *FSM) applyErase(id string, index uint64) error {
	if _, ok := f.ers.at[id]; ok {
		return nil
	}
	r := f.cases[id]
	if r == nil {
		return fmt.Errorf("%w %s", engine.ErrUnknownCase, id)
	}
	if !r.s.Done() {
		return fmt.Errorf("%w: case %s is running; cancel it first", ErrNotErasable, id)
	}
	delete(f.cases, id)
	if r.key != "" && f.keys[r.key] == id {
		// The business key may be personal data too, and a restored
		// replica rebuilds the keys from the cases it holds.
		delete(f.keys, r.key)
	}
	if f.ers.at == nil {
		f.ers.at = map[string]uint64{}
	}
	f.ers.at[id] = index
	f.ers.hashTomb(id, index)
	f.touchCase(id)
	f.notify()
	if f.ers.hook != nil {
		f.ers.hook(id)
	}
	return nil
}

// erasedError is the error of using an erased case: it is ErrErased
// and, for whoever asks, engine.ErrUnknownCase (the API answers "not
// found", as for a case that never was).
type erasedError struct {
	id    string
	index uint64
}

func (e *erasedError) Error() string {
	return fmt.Sprintf("case %s was erased (crypto-shredded) at raft index %d: its data cannot be read", e.id, e.index)
}

func (e *erasedError) Is(target error) bool {
	return target == ErrErased || target == engine.ErrUnknownCase
}

// erasedErr is the error of using case id once erased, nil before.
// f.mu is held.
func (f *FSM) erasedErr(id string) error {
	if i, ok := f.ers.at[id]; ok {
		return &erasedError{id: id, index: i}
	}
	return nil
}

// Erased returns the error of reading case id once it was erased, nil
// when it was not.
func (f *FSM) Erased(id string) error {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.erasedErr(id)
}

// wireErased is the tombstones in a snapshot.
func (e *erasures) wire() map[string]uint64 {
	if len(e.at) == 0 {
		return nil
	}
	out := make(map[string]uint64, len(e.at))
	for id, i := range e.at {
		out[id] = i
	}
	return out
}

// restore takes a snapshot's tombstones, telling the hook of each.
func (e *erasures) restore(at map[string]uint64) {
	e.at, e.sum = at, setSum{}
	if e.hook != nil {
		for id := range at {
			e.hook(id)
		}
	}
}

// EraseCase erases case id through the log with request id reqID (a
// retry is safe; erasing an erased case is no error) and returns once
// every replica that applies it will drop the case and this node, the
// leader, has shredded its own copy. Only a case that ended, on a node
// whose raft data is sealed per case, can be erased.
func (n *Node) EraseCase(ctx context.Context, reqID, id string) error {
	l, err := n.leader()
	if err != nil {
		return err
	}
	if n.shred == nil {
		return fmt.Errorf("%w: case %s was written without per-case keys (only a tenant created with --encrypt can erase a case on a cluster)", ErrNotErasable, id)
	}
	if _, _, ok := n.fsm.Case(id); ok && !n.shred.logs.cs.Holds(id) {
		// Its entries and snapshots are sealed with the node's key alone,
		// which stays: dropping it would leave it readable on disk.
		return fmt.Errorf("%w: case %s was written before this tenant's nodes kept a key per case; only the whole tenant can be erased (knhk tenant erase --server URL T)", ErrNotErasable, id)
	}
	var index uint64
	err = l.once(ctx, reqID, func() error {
		if r, ok := n.fsm.Request(reqID); reqID != "" && ok {
			index = r.Index
			return r.Err
		}
		r, err := n.propose(ctx, &Command{Op: OpErase, ReqID: reqID, Program: n.hash, Case: id})
		if r != nil {
			index = r.Index
		}
		return err
	})
	if err != nil {
		return err
	}
	if err := n.shred.wait(ctx, id); err != nil {
		return err
	}
	return n.awaitReplicas(ctx, index)
}

// replicaWait bounds how long an erasure waits for a live member to
// apply it.
const replicaWait = 10 * time.Second

// StatusProber is a Prober that reads a member's whole status: an
// erasure then also waits for each member to destroy its keys.
type StatusProber interface {
	Prober
	Status(ctx context.Context, m Member) (*Status, error)
}

// awaitReplicas waits until every other member that answers has applied
// index and, when the prober reads whole statuses, destroyed its keys of
// the cases erased, so that once an erasure is acknowledged no live node
// reads the case back or holds its key. A member that does not answer is
// down: it applies the erasure and destroys its key when it comes back,
// and serves no read of its own copy before (StaleReady).
func (n *Node) awaitReplicas(ctx context.Context, index uint64) error {
	cf := n.r.GetConfiguration()
	if err := cf.Error(); err != nil {
		return n.raftErr(err)
	}
	members := n.fsm.Members()
	deadline := time.Now().Add(replicaWait)
	for _, s := range cf.Configuration().Servers {
		m, ok := members[string(s.ID)]
		if string(s.ID) == n.cfg.ID || !ok || m.API == "" {
			continue
		}
		for {
			a, shredding, err := n.probeShred(ctx, m)
			if err != nil || a >= index && shredding == 0 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%w: the erasure is committed, and member %s has applied index %d of %d, with %d erased cases' keys still to destroy", ErrMaybeCommitted, s.ID, a, index, shredding)
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%w: %w", ErrMaybeCommitted, ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	return nil
}

// probeShred reads member m's applied index and how many erased cases'
// keys it still holds (0 when the prober reads only applied indexes).
func (n *Node) probeShred(ctx context.Context, m Member) (uint64, int, error) {
	if sp, ok := n.prober().(StatusProber); ok {
		st, err := sp.Status(ctx, m)
		if err != nil {
			return 0, 0, err
		}
		return st.Applied, st.Shredding, nil
	}
	a, err := n.prober().Applied(ctx, m)
	return a, 0, err
}
