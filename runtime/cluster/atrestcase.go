// This file implements per-case sealing of a node's raft data at rest
// (a CaseSealer as Config.AtRest) and the shredding of one erased case
// on the node (erase.go's OpErase): each case's log entries and its
// part of every snapshot are sealed with a key of that case's own on
// this node, inside the node's own sealing, so that destroying the
// case's key shreds exactly that case.
//
// Raft must never read what it cannot open, so a key is destroyed only
// once no entry it sealed can be read again: the node marks the case
// gone (later entries of it are sealed with the node's key alone), waits
// until it has applied every entry stored before, snapshots (the FSM no
// longer holds the case) and drops the log up to the snapshot; raft then
// reads only the snapshot and what follows it, and the node removes its
// older snapshots. The entries' bytes may stay in a raft-wal segment
// until raft-wal deletes the segment: ciphertext under the destroyed
// key.

package cluster

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// CaseSealer is a Sealer that also seals one case's data with a key of
// that case's own on this node, and destroys it.
type CaseSealer interface {
	Sealer
	// SealCase seals plain under case id's key, making it on first use;
	// it returns an error wrapping ErrCaseForgotten once the key is
	// destroyed (the data is then sealed with the node's key alone: the
	// case was erased, and the FSM refuses whatever it carries).
	SealCase(id string, plain []byte) ([]byte, error)
	OpenCase(id string, sealed []byte) ([]byte, error)
	// Holds reports whether the node holds case id's key.
	Holds(id string) bool
	// Forget destroys the node's key of case id, for good.
	Forget(id string) error
}

// ErrCaseForgotten is wrapped by SealCase for a case whose key the node
// destroyed.
var ErrCaseForgotten = errors.New("the case's key is destroyed")

// caseMagic opens every entry sealed per case: the node's sealing of
// the case id's length (uvarint), the id and the case's sealing.
var caseMagic = []byte("KNHKSEAL2")

// entryCase returns the case of an event command's entry, "" for any
// other entry.
func entryCase(l *raft.Log) string {
	if l.Type != raft.LogCommand || len(l.Data) < 5 || l.Data[0] != commandVersion {
		return ""
	}
	var h struct {
		Op   Op     `json:"op"`
		Case string `json:"case"`
	}
	if json.Unmarshal(l.Data[5:], &h) != nil || h.Op != OpEvent {
		return ""
	}
	return h.Case
}

// caseOf returns the case whose key seals entry e, "" for the node's
// key alone: an event's entry when the node seals per case and its case
// is not gone. l.mu is held for reading.
func (l *sealedLogs) caseOf(e *raft.Log) string {
	if l.cs == nil {
		return ""
	}
	if id := entryCase(e); !l.gone[id] {
		return id
	}
	return ""
}

// sealCase seals an entry of case id (l.mu held for reading).
func (l *sealedLogs) sealCase(id string, b []byte) ([]byte, error) {
	inner, err := l.cs.SealCase(id, b)
	if errors.Is(err, ErrCaseForgotten) {
		return seal(l.s, b)
	}
	if err != nil {
		return nil, err
	}
	p := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+len(id)+len(inner)), uint64(len(id)))
	p = append(append(p, id...), inner...)
	ct, err := l.s.Seal(p)
	if err != nil {
		return nil, err
	}
	return append(append(make([]byte, 0, len(caseMagic)+len(ct)), caseMagic...), ct...), nil
}

// openCase opens an entry sealedCase wrote; ok is false for any other.
func (l *sealedLogs) openCase(b []byte) (pt []byte, ok bool, err error) {
	ct, ok := bytes.CutPrefix(b, caseMagic)
	if !ok {
		return nil, false, nil
	}
	if l.cs == nil {
		return nil, true, fmt.Errorf("%w: an entry sealed per case, and this node has no per-case keys", ErrSealed)
	}
	p, err := l.s.Open(ct)
	if err != nil {
		return nil, true, fmt.Errorf("%w: %v", ErrSealed, err)
	}
	n, k := binary.Uvarint(p)
	if k <= 0 || uint64(len(p)-k) < n {
		return nil, true, fmt.Errorf("%w: a case entry's id is cut short", ErrSealed)
	}
	id := string(p[k : k+int(n)])
	if pt, err = l.cs.OpenCase(id, p[k+int(n):]); err != nil {
		return nil, true, fmt.Errorf("%w: case %s: %v", ErrSealed, id, err)
	}
	return pt, true, nil
}

// markGone seals the entries of cases ids with the node's key alone from
// now on, and returns the last index stored before: every entry sealed
// with their keys is at or below it.
func (l *sealedLogs) markGone(ids []string) (uint64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.gone == nil {
		l.gone = map[string]bool{}
	}
	for _, id := range ids {
		l.gone[id] = true
	}
	return l.LogStore.LastIndex()
}

// sealedCase is a case of a snapshot sealed with its own key.
type sealedCase struct {
	ID     string `json:"id"`
	Sealed []byte `json:"sealed"`
}

// mapCases applies fn to each case of snapshot b (wireSnapshot's JSON)
// and returns the snapshot with the cases fn returned.
func mapCases(b []byte, fn func(raw json.RawMessage) (json.RawMessage, error)) ([]byte, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, err
	}
	var cases []json.RawMessage
	if raw := top["cases"]; len(raw) > 0 {
		if err := json.Unmarshal(raw, &cases); err != nil {
			return nil, err
		}
	}
	for i, c := range cases {
		out, err := fn(c)
		if err != nil {
			return nil, err
		}
		cases[i] = out
	}
	raw, err := json.Marshal(cases)
	if err != nil {
		return nil, err
	}
	top["cases"] = raw
	return json.Marshal(top)
}

// sealSnapshotCases seals each case of snapshot b with its own key.
func sealSnapshotCases(cs CaseSealer, b []byte) ([]byte, error) {
	return mapCases(b, func(raw json.RawMessage) (json.RawMessage, error) {
		var c sealedCase
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, err
		}
		ct, err := cs.SealCase(c.ID, raw)
		if err != nil {
			return nil, fmt.Errorf("sealing case %s of a snapshot: %w", c.ID, err)
		}
		return json.Marshal(sealedCase{ID: c.ID, Sealed: ct})
	})
}

// openSnapshotCases opens what sealSnapshotCases sealed.
func openSnapshotCases(cs CaseSealer, b []byte) ([]byte, error) {
	return mapCases(b, func(raw json.RawMessage) (json.RawMessage, error) {
		var c sealedCase
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, err
		}
		if c.Sealed == nil {
			return raw, nil // written before the node sealed per case
		}
		pt, err := cs.OpenCase(c.ID, c.Sealed)
		if err != nil {
			return nil, fmt.Errorf("%w: case %s: %v", ErrSealed, c.ID, err)
		}
		return pt, nil
	})
}

// shredder destroys a node's keys of the cases erased, once raft will
// never read what they sealed.
type shredder struct {
	n     *Node
	logs  *sealedLogs
	snaps raft.SnapshotStore

	mu       sync.Mutex
	pending  map[string]bool
	inflight map[string]bool
	wake     chan struct{}
	passed   chan struct{} // closed at the end of each pass
}

// newShredder returns the shredder of n, whose stores are logs and
// snaps, nil unless they seal per case; it hooks n's FSM.
func newShredder(n *Node, logs raft.LogStore, snaps raft.SnapshotStore) *shredder {
	var sl *sealedLogs
	switch l := logs.(type) {
	case *sealedLogs:
		sl = l
	case *monotonicSealedLogs:
		sl = l.sealedLogs
	}
	if sl == nil || sl.cs == nil {
		return nil
	}
	s := &shredder{n: n, logs: sl, snaps: snaps, pending: map[string]bool{}, inflight: map[string]bool{}, wake: make(chan struct{}, 1), passed: make(chan struct{})}
	n.fsm.mu.Lock()
	n.fsm.ers.hook = s.enqueue
	n.fsm.mu.Unlock()
	return s
}

func (s *shredder) enqueue(id string) {
	s.mu.Lock()
	s.pending[id] = true
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// count returns how many erased cases the node has yet to shred (0
// for a nil shredder).
func (s *shredder) count() int {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.inflight)
	for id := range s.pending {
		if !s.inflight[id] {
			n++
		}
	}
	return n
}

// wait returns once case id is shredded on this node (or ctx ends).
func (s *shredder) wait(ctx context.Context, id string) error {
	for {
		s.mu.Lock()
		busy, passed := s.pending[id] || s.inflight[id], s.passed
		s.mu.Unlock()
		if !busy {
			return nil
		}
		select {
		case <-passed:
		case <-ctx.Done():
			return fmt.Errorf("%w: case %s is erased, and this node is still shredding its copy: %w", ErrMaybeCommitted, id, ctx.Err())
		}
	}
}

func (s *shredder) loop() {
	defer s.n.loops.Done()
	for {
		select {
		case <-s.n.stop:
			return
		case <-s.wake:
		}
		for {
			s.mu.Lock()
			for id := range s.pending {
				s.inflight[id] = true
			}
			clear(s.pending)
			ids := make([]string, 0, len(s.inflight))
			for id := range s.inflight {
				ids = append(ids, id)
			}
			s.mu.Unlock()
			if len(ids) == 0 {
				break
			}
			err := s.pass(ids)
			s.mu.Lock()
			if err == nil {
				clear(s.inflight)
			}
			close(s.passed)
			s.passed = make(chan struct{})
			s.mu.Unlock()
			if err != nil {
				fmt.Fprintf(s.n.cfg.LogOutput, "cluster %s: shredding erased cases: %v (retrying)\n", s.n.cfg.ID, err)
				select {
				case <-s.n.stop:
					return
				case <-time.After(250 * time.Millisecond):
				}
			}
		}
	}
}

// pass shreds cases ids: the node's snapshot and log keep nothing their
// keys sealed, then the keys are destroyed.
func (s *shredder) pass(ids []string) error {
	var held []string
	for _, id := range ids {
		if s.logs.cs.Holds(id) {
			held = append(held, id)
		}
	}
	if len(held) == 0 {
		return nil
	}
	last, err := s.logs.markGone(held)
	if err != nil {
		return err
	}
	for {
		if applied, _ := s.n.fsm.Applied(); applied >= last {
			break
		}
		select {
		case <-s.n.stop:
			return raft.ErrRaftShutdown
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err := s.n.r.Snapshot().Error(); err != nil && !errors.Is(err, raft.ErrNothingNewToSnapshot) {
		return fmt.Errorf("snapshot: %w", err)
	}
	metas, err := s.snaps.List()
	if err != nil {
		return err
	}
	if len(metas) == 0 || metas[0].Index < last {
		return fmt.Errorf("the latest snapshot is before index %d", last)
	}
	first, err := s.logs.FirstIndex()
	if err != nil {
		return err
	}
	if first != 0 && first <= metas[0].Index {
		if err := s.logs.DeleteRange(first, metas[0].Index); err != nil {
			return fmt.Errorf("dropping the log up to the snapshot at %d: %w", metas[0].Index, err)
		}
	}
	for _, id := range held {
		if err := s.logs.cs.Forget(id); err != nil {
			return fmt.Errorf("destroying the key of case %s: %w", id, err)
		}
	}
	// Raft reads only the latest snapshot; the older ones it keeps
	// hold the cases too.
	if dir := s.n.cfg.Dir; dir != "" {
		for _, m := range metas[1:] {
			if err := os.RemoveAll(filepath.Join(dir, "snapshots", m.ID)); err != nil {
				return fmt.Errorf("removing snapshot %s: %w", m.ID, err)
			}
		}
	}
	return nil
}
