// This file implements the Service's event log: engine.StoreLog's
// records, with an index of where each case's records start and where
// its latest snapshot is that the Service persists (index.go), so that a
// recovery reads from there without the full scan StoreLog's own index
// makes on its first use.

package server

import (
	"context"
	"fmt"
	"sync"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/store"
)

// eventLog is an engine.Snapshotter over the Service's store.
type eventLog struct {
	st *store.Store
	// appended is called after every durable append of a case's event.
	appended func(caseID string)
	// observe, if set, sees every event after its append is durable.
	observe func(*engine.Event)

	mu  sync.Mutex
	pos map[string]*casePos
	// pre holds, for cases Open rebuilds, their latest snapshot and the
	// events after it, gathered by one scan (see recover.go); a case's
	// first ReplaySnapshot takes them.
	pre map[string]*preload
}

// casePos is where a case's records are in the log.
type casePos struct {
	First store.Seq `json:"first,omitempty"`
	Snap  store.Seq `json:"snap,omitempty"`
	Last  store.Seq `json:"last,omitempty"`
	// N counts the case's events this process saw (appended or
	// replayed); a drain snapshot records it (it paces the engine's
	// later snapshots, nothing else).
	N uint64 `json:"-"`
}

type preload struct {
	snap   []byte
	events [][]byte
}

func (l *eventLog) note(caseID string, seq store.Seq, snapshot bool) {
	l.mu.Lock()
	p := l.pos[caseID]
	if p == nil {
		p = &casePos{First: seq}
		l.pos[caseID] = p
	}
	if snapshot {
		p.Snap = seq
	} else {
		p.N++
	}
	p.Last = seq
	l.mu.Unlock()
}

func (l *eventLog) position(caseID string) casePos {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p := l.pos[caseID]; p != nil {
		return *p
	}
	return casePos{}
}

// Append encodes ev, appends it and returns once it is fsync'd.
func (l *eventLog) Append(ctx context.Context, caseID string, ev *engine.Event) error {
	b, err := engine.EncodeEvent(ev)
	if err != nil {
		return err
	}
	seq, err := l.st.Append(ctx, store.Record{CaseID: caseID, Kind: ev.Kind.String(), Payload: b})
	if err != nil {
		return err
	}
	l.note(caseID, seq, false)
	if l.appended != nil {
		l.appended(caseID)
	}
	if l.observe != nil {
		l.observe(ev)
	}
	return nil
}

// SaveSnapshot appends snap as a snapshot record of caseID.
func (l *eventLog) SaveSnapshot(ctx context.Context, caseID string, snap []byte) error {
	seq, err := l.st.Append(ctx, store.Record{CaseID: caseID, Kind: engine.SnapshotKind, Payload: snap})
	if err == nil {
		l.note(caseID, seq, true)
	}
	return err
}

// Replay decodes the events of caseID from its first record on.
func (l *eventLog) Replay(ctx context.Context, caseID string, fn func(*engine.Event) error) error {
	p := l.position(caseID)
	if p.First == 0 {
		return nil
	}
	return l.st.ScanPositions(ctx, p.First, func(r store.Record, _ store.Position) error {
		if r.CaseID != caseID || r.Kind == engine.SnapshotKind {
			return nil
		}
		ev, err := engine.DecodeEvent(r.Payload)
		if err != nil {
			return fmt.Errorf("record %d: %w", r.Seq, err)
		}
		return fn(ev)
	})
}

// ReplaySnapshot replays caseID from its latest snapshot: from what Open
// gathered for it, or by scanning from the snapshot's record.
func (l *eventLog) ReplaySnapshot(ctx context.Context, caseID string, restore func([]byte) error, fn func(*engine.Event) error) error {
	l.mu.Lock()
	pre := l.pre[caseID]
	delete(l.pre, caseID)
	l.mu.Unlock()
	if pre != nil {
		if pre.snap != nil {
			if err := restore(pre.snap); err != nil {
				return err
			}
		}
		for i, b := range pre.events {
			ev, err := engine.DecodeEvent(b)
			if err != nil {
				return fmt.Errorf("event %d after the snapshot: %w", i, err)
			}
			if err := fn(ev); err != nil {
				return err
			}
		}
		return nil
	}
	p := l.position(caseID)
	from := p.First
	if p.Snap != 0 {
		from = p.Snap
	}
	if from == 0 {
		return nil
	}
	first := p.Snap != 0
	return l.st.ScanPositions(ctx, from, func(r store.Record, _ store.Position) error {
		if r.CaseID != caseID {
			return nil
		}
		if r.Kind == engine.SnapshotKind {
			if !first {
				return nil
			}
			first = false
			return restore(r.Payload)
		}
		if first {
			return fmt.Errorf("record %d: want the case snapshot, found %s", r.Seq, r.Kind)
		}
		ev, err := engine.DecodeEvent(r.Payload)
		if err != nil {
			return fmt.Errorf("record %d: %w", r.Seq, err)
		}
		return fn(ev)
	})
}
