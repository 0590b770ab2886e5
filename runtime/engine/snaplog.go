// This file implements the optional snapshot side of an event log, for
// the in-memory log and the store-backed one.

package engine

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"weak"

	"github.com/knhk/knhk/runtime/store"
)

// Snapshotter is an [EventLog] that also keeps case snapshots. The
// engine checks for it with a type assertion: a log without it still
// works, and recovery replays whole cases.
type Snapshotter interface {
	EventLog
	// SaveSnapshot stores snap, an encoding of the state of caseID after
	// every event appended for it so far. Appends for one case are
	// serialised by the engine, so "so far" is well defined.
	SaveSnapshot(ctx context.Context, caseID string, snap []byte) error
	// ReplaySnapshot calls restore with the latest snapshot of caseID,
	// unless it has none, and then fn with each event appended after that
	// snapshot, in order.
	ReplaySnapshot(ctx context.Context, caseID string, restore func(snap []byte) error, fn func(*Event) error) error
}

type memSnap struct {
	at   int // events of the case before it
	data []byte
}

// SaveSnapshot keeps a copy of snap as the latest snapshot of caseID.
func (l *MemLog) SaveSnapshot(ctx context.Context, caseID string, snap []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.snaps == nil {
		l.snaps = map[string]memSnap{}
	}
	l.snaps[caseID] = memSnap{at: len(l.cases[caseID]), data: append([]byte(nil), snap...)}
	return nil
}

// ReplaySnapshot replays caseID from its latest snapshot.
func (l *MemLog) ReplaySnapshot(ctx context.Context, caseID string, restore func([]byte) error, fn func(*Event) error) error {
	l.mu.Lock()
	evs := l.cases[caseID]
	sn, ok := l.snaps[caseID]
	l.mu.Unlock()
	if ok {
		if err := restore(sn.data); err != nil {
			return err
		}
		evs = evs[sn.at:]
	}
	for i := range evs {
		if err := ctx.Err(); err != nil {
			return err
		}
		ev := evs[i]
		if err := fn(&ev); err != nil {
			return err
		}
	}
	return nil
}

// storeIndex remembers, per case, where in the store its records start
// and where its latest snapshot is, for the records up to seen. It is
// brought up to date by scanning only the records after seen, reading
// their case and kind, so a case's replay scans from its latest snapshot
// instead of from the start of the log.
type storeIndex struct {
	mu    sync.Mutex
	seen  store.Seq
	first map[string]store.Position
	snap  map[string]store.Position
}

// indexes holds the index of each open store. StoreLog is a plain value
// that callers build as a literal, so the index cannot live in it; it is
// keyed by a weak pointer and dropped when the store is collected.
var indexes sync.Map // weak.Pointer[store.Store] -> *storeIndex

// indexOf returns the index of st, creating it on first use.
func indexOf(st *store.Store) *storeIndex {
	k := weak.Make(st)
	if x, ok := indexes.Load(k); ok {
		return x.(*storeIndex)
	}
	x, loaded := indexes.LoadOrStore(k, &storeIndex{first: map[string]store.Position{}, snap: map[string]store.Position{}})
	if !loaded {
		runtime.AddCleanup(st, func(k weak.Pointer[store.Store]) { indexes.Delete(k) }, k)
	}
	return x.(*storeIndex)
}

// catchUp indexes the records after seen and returns where the replay of
// caseID should start and whether that record is its snapshot.
func (x *storeIndex) catchUp(ctx context.Context, st *store.Store, caseID string) (store.Position, bool, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	// Views: the records are only looked at, so none is copied.
	err := st.ScanViews(ctx, store.Position{Seq: x.seen + 1}, func(r store.RecordView, p store.Position) error {
		if _, ok := x.first[string(r.CaseID)]; !ok {
			x.first[string(r.CaseID)] = p
		}
		if string(r.Kind) == SnapshotKind {
			x.snap[string(r.CaseID)] = p
		}
		x.seen = r.Seq
		return nil
	})
	if err != nil {
		return store.Position{}, false, err
	}
	if p, ok := x.snap[caseID]; ok {
		return p, true, nil
	}
	if p, ok := x.first[caseID]; ok {
		return p, false, nil
	}
	return store.Position{Seq: x.seen + 1}, false, nil // no record yet: nothing to replay
}

// SaveSnapshot appends snap as a record of kind "case-snapshot" of caseID.
func (l StoreLog) SaveSnapshot(ctx context.Context, caseID string, snap []byte) error {
	_, err := l.Store.Append(ctx, store.Record{CaseID: caseID, Kind: SnapshotKind, Payload: snap})
	return err
}

// ReplaySnapshot replays caseID from its latest snapshot record. It
// first brings the store's index up to date (reading only the records
// appended since the last replay, or the whole log on the first) and then
// reads from the byte offset of the snapshot record, or of the case's
// first record when it has none.
func (l StoreLog) ReplaySnapshot(ctx context.Context, caseID string, restore func([]byte) error, fn func(*Event) error) error {
	from, isSnap, err := indexOf(l.Store).catchUp(ctx, l.Store, caseID)
	if err != nil {
		return err
	}
	first := isSnap
	return l.Store.ScanFrom(ctx, from, func(r store.Record) error {
		if r.CaseID != caseID {
			return nil
		}
		if r.Kind == SnapshotKind {
			if !first {
				return nil // a snapshot newer than the index: the events replay to the same state
			}
			first = false
			return restore(r.Payload)
		}
		if first {
			return fmt.Errorf("record %d: want the case snapshot, found %s", r.Seq, r.Kind)
		}
		ev, err := DecodeEvent(r.Payload)
		if err != nil {
			return fmt.Errorf("record %d: %w", r.Seq, err)
		}
		return fn(ev)
	})
}
