// This file implements the encryption of a node's raft log and
// snapshots at rest (Config.AtRest): every entry's data and every
// snapshot is sealed with a key of the node's own before it reaches the
// disk, and opened when raft reads it back. Raft's messages between
// nodes are not (mutual TLS protects them in flight), and every node
// seals its own copy with its own key, which never leaves it.
//
// It is what makes a replicated group crypto-shreddable: a tenant's
// group (knhk serve --node --tenants) whose every node destroys its key
// leaves, on every node's disk and in any backup of it, only ciphertext
// that nothing can open, while the cluster's own log, which records the
// erasure, stays whole.

package cluster

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/hashicorp/raft"
)

// Sealer seals a node's raft data at rest; Open reverses Seal, and
// fails once the key is destroyed.
type Sealer interface {
	Seal(plain []byte) ([]byte, error)
	Open(sealed []byte) ([]byte, error)
}

// sealedMagic opens every sealed entry and snapshot; data without it
// was written before the node sealed its data, and is read as it is.
var sealedMagic = []byte("KNHKSEAL1")

// ErrSealed wraps a failure to open sealed raft data (its key is gone,
// or the data was changed).
var ErrSealed = errors.New("sealed raft data does not open")

func seal(s Sealer, b []byte) ([]byte, error) {
	ct, err := s.Seal(b)
	if err != nil {
		return nil, err
	}
	return append(append(make([]byte, 0, len(sealedMagic)+len(ct)), sealedMagic...), ct...), nil
}

func open(s Sealer, b []byte) ([]byte, error) {
	ct, ok := bytes.CutPrefix(b, sealedMagic)
	if !ok {
		return b, nil
	}
	pt, err := s.Open(ct)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSealed, err)
	}
	return pt, nil
}

// sealedLogs is a raft.LogStore whose entries' data are sealed.
type sealedLogs struct {
	raft.LogStore
	s Sealer
	// cs is s when it seals per case (atrestcase.go): an event's entry
	// is then sealed with its case's key too, unless the case is gone
	// (erased here). mu is held for reading while entries are sealed
	// and stored, for writing while a case is marked gone.
	cs   CaseSealer
	mu   sync.RWMutex
	gone map[string]bool
}

// sealLogs wraps logs; it keeps raft-wal's monotonic promise.
func sealLogs(logs raft.LogStore, s Sealer) raft.LogStore {
	sl := &sealedLogs{LogStore: logs, s: s}
	sl.cs, _ = s.(CaseSealer)
	if m, ok := logs.(raft.MonotonicLogStore); ok && m.IsMonotonic() {
		return &monotonicSealedLogs{sl}
	}
	return sl
}

type monotonicSealedLogs struct{ *sealedLogs }

func (monotonicSealedLogs) IsMonotonic() bool { return true }

func (l *sealedLogs) sealed(in *raft.Log) (*raft.Log, error) {
	out := *in
	var err error
	if id := l.caseOf(in); id != "" {
		out.Data, err = l.sealCase(id, in.Data)
	} else {
		out.Data, err = seal(l.s, in.Data)
	}
	if err != nil {
		return nil, err
	}
	return &out, nil
}

func (l *sealedLogs) StoreLog(in *raft.Log) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out, err := l.sealed(in)
	if err != nil {
		return err
	}
	return l.LogStore.StoreLog(out)
}

func (l *sealedLogs) StoreLogs(in []*raft.Log) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	out := make([]*raft.Log, len(in))
	for i, e := range in {
		var err error
		if out[i], err = l.sealed(e); err != nil {
			return err
		}
	}
	return l.LogStore.StoreLogs(out)
}

func (l *sealedLogs) GetLog(index uint64, out *raft.Log) error {
	if err := l.LogStore.GetLog(index, out); err != nil {
		return err
	}
	pt, isCase, err := l.openCase(out.Data)
	if !isCase {
		pt, err = open(l.s, out.Data)
	}
	if err != nil {
		return fmt.Errorf("raft log entry %d: %w", index, err)
	}
	out.Data = pt
	return nil
}

// sealedSnaps is a raft.SnapshotStore whose snapshots are sealed whole.
type sealedSnaps struct {
	raft.SnapshotStore
	s Sealer
}

func (st *sealedSnaps) Create(version raft.SnapshotVersion, index, term uint64, cf raft.Configuration, cfIndex uint64, trans raft.Transport) (raft.SnapshotSink, error) {
	sink, err := st.SnapshotStore.Create(version, index, term, cf, cfIndex, trans)
	if err != nil {
		return nil, err
	}
	return &sealedSink{SnapshotSink: sink, s: st.s}, nil
}

// Open opens snapshot id; the metadata's size is the opened one's, so
// that raft sends a follower as many bytes as it reads.
func (st *sealedSnaps) Open(id string) (*raft.SnapshotMeta, io.ReadCloser, error) {
	meta, rc, err := st.SnapshotStore.Open(id)
	if err != nil {
		return nil, nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, nil, err
	}
	pt, err := open(st.s, b)
	if cs, ok := st.s.(CaseSealer); ok && err == nil {
		pt, err = openSnapshotCases(cs, pt)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("snapshot %s: %w", id, err)
	}
	m := *meta
	m.Size = int64(len(pt))
	return &m, io.NopCloser(bytes.NewReader(pt)), nil
}

// sealedSink gathers a snapshot and seals it whole on its first Close
// (the FSM's Persist closes it, and raft again).
type sealedSink struct {
	raft.SnapshotSink
	s      Sealer
	buf    bytes.Buffer
	closed bool
}

func (k *sealedSink) Write(p []byte) (int, error) {
	if k.closed {
		return 0, errors.New("write to a closed snapshot")
	}
	return k.buf.Write(p)
}

func (k *sealedSink) Cancel() error {
	k.closed = true
	return k.SnapshotSink.Cancel()
}

func (k *sealedSink) Close() error {
	if k.closed {
		return nil
	}
	k.closed = true
	b := k.buf.Bytes()
	var err error
	if cs, ok := k.s.(CaseSealer); ok {
		b, err = sealSnapshotCases(cs, b)
	}
	if err == nil {
		b, err = seal(k.s, b)
	}
	if err != nil {
		k.SnapshotSink.Cancel()
		return err
	}
	if _, err := k.SnapshotSink.Write(b); err != nil {
		k.SnapshotSink.Cancel()
		return err
	}
	return k.SnapshotSink.Close()
}
