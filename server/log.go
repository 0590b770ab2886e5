// This file implements the Service's event log: engine.StoreLog's
// records, with an index of where each case's records start and where
// its latest snapshot is that the Service persists (index.go), so that a
// recovery reads from there without the full scan StoreLog's own index
// makes on its first use. Appends are batched per case and made durable
// together (flush.go).

package server

import (
	"context"
	"fmt"
	"maps"
	"sync"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/store"
)

// eventLog is an engine.Snapshotter over the Service's store.
type eventLog struct {
	st *store.Store
	// started is called after the first durable record of a case.
	started func(caseID string)
	// observe, if set, sees every event after its append is durable.
	observe func(*engine.Event)
	// syncEach makes each append wait until it is durable
	// (Options.SyncEachEvent).
	syncEach bool

	// pos is sharded by case id: every append updates its case's entry,
	// and one lock for all cases was the most contended lock of the
	// server with 1,000 concurrent cases.
	pos [posShards]posShard

	mu sync.Mutex
	// pre holds, for cases Open rebuilds, their latest snapshot and the
	// events after it, gathered by one scan (see index.go); a case's
	// first ReplaySnapshot takes them.
	pre map[string]*preload
}

const posShards = 64

type posShard struct {
	mu sync.Mutex
	m  map[string]*casePos
}

func (l *eventLog) init() {
	for i := range l.pos {
		l.pos[i].m = map[string]*casePos{}
	}
	l.pre = map[string]*preload{}
}

// grow makes room for n more cases in the position maps (Open, before
// it reads n cases from the index).
func (l *eventLog) grow(n int) {
	for i := range l.pos {
		sh := &l.pos[i]
		sh.mu.Lock()
		m := make(map[string]*casePos, len(sh.m)+n/posShards+1)
		maps.Copy(m, sh.m)
		sh.m = m
		sh.mu.Unlock()
	}
}

func (l *eventLog) shard(caseID string) *posShard {
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(caseID); i++ {
		h = (h ^ uint32(caseID[i])) * 16777619
	}
	return &l.pos[h%posShards]
}

// setPosition sets where case id's records are (Open, from the index).
func (l *eventLog) setPosition(caseID string, p casePos) {
	sh := l.shard(caseID)
	sh.mu.Lock()
	sh.m[caseID] = &p
	sh.mu.Unlock()
}

// countEvent counts one more event of caseID seen by Open's replay.
func (l *eventLog) countEvent(caseID string) {
	sh := l.shard(caseID)
	sh.mu.Lock()
	if p := sh.m[caseID]; p != nil {
		p.N++
	}
	sh.mu.Unlock()
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
	// pend holds what the case appended that is not durable yet; nil
	// when everything is (see flush.go).
	pend *pending
	// snapAt is where the snapshot at Snap is, when this process wrote
	// it: a rehydration reads from there instead of from the start of
	// its segment.
	snapAt store.Position
}

type preload struct {
	snap   []byte
	events [][]byte
}

// note records that record seq of caseID is durable and reports
// whether it is the case's first.
func (l *eventLog) note(caseID string, seq store.Seq, snapshot bool) bool {
	sh := l.shard(caseID)
	sh.mu.Lock()
	p := sh.m[caseID]
	if p == nil {
		p = &casePos{}
		sh.m[caseID] = p
	}
	first := p.noteLocked(seq, snapshot)
	sh.mu.Unlock()
	return first
}

// noteLocked is note with the case's shard locked.
func (p *casePos) noteLocked(seq store.Seq, snapshot bool) bool {
	first := p.First == 0
	if first {
		p.First = seq
	}
	if snapshot {
		p.Snap = seq
	} else {
		p.N++
	}
	p.Last = seq
	return first
}

func (l *eventLog) position(caseID string) casePos {
	sh := l.shard(caseID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if p := sh.m[caseID]; p != nil {
		c := *p
		c.pend = nil
		return c
	}
	return casePos{}
}

// Append encodes ev and adds it to what case caseID has waiting for the
// next flush: the engine applies it at once, and the Service lets
// nobody outside learn of it before it is durable (see flush.go).
func (l *eventLog) Append(ctx context.Context, caseID string, ev *engine.Event) error {
	b, err := engine.EncodeEvent(ev)
	if err != nil {
		return err
	}
	var seen *engine.Event
	if l.observe != nil {
		c := *ev // the engine reuses ev
		seen = &c
	}
	if err := l.add(caseID, store.Record{CaseID: caseID, Kind: ev.Kind.String(), Payload: b}, seen, markOf(ev)); err != nil {
		return err
	}
	if l.syncEach {
		return l.sync(ctx, caseID)
	}
	return nil
}

// SaveSnapshot adds snap as a snapshot record of caseID to what the
// case has waiting for the next flush.
func (l *eventLog) SaveSnapshot(ctx context.Context, caseID string, snap []byte) error {
	return l.add(caseID, store.Record{CaseID: caseID, Kind: engine.SnapshotKind, Payload: snap}, nil, derived)
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
	at := store.Position{Seq: from}
	if first && p.snapAt.Seq == p.Snap {
		at = p.snapAt
	}
	// Views: other cases' records are skipped without a copy; the scan
	// stops at the case's last record instead of the log's end.
	scan := func(r store.RecordView, _ store.Position) error {
		if p.Last != 0 && r.Seq > p.Last {
			return errStop
		}
		if string(r.CaseID) != caseID {
			return nil
		}
		if string(r.Kind) == engine.SnapshotKind {
			if !first {
				return nil
			}
			first = false
			return restore(append([]byte(nil), r.Payload...)) // the view is the scan's buffer
		}
		if first {
			return fmt.Errorf("record %d: want the case snapshot, found %s", r.Seq, r.Kind)
		}
		ev, err := engine.DecodeEvent(r.Payload)
		if err != nil {
			return fmt.Errorf("record %d: %w", r.Seq, err)
		}
		return fn(ev)
	}
	read := false
	err := l.st.ScanViews(ctx, at, func(r store.RecordView, p store.Position) error {
		read = true
		return scan(r, p)
	})
	if err != nil && err != errStop && !read && at.Seq == from && at != (store.Position{Seq: from}) {
		// The remembered place is gone (a compaction, a repair): read
		// the segment up to the record instead.
		err = l.st.ScanViews(ctx, store.Position{Seq: from}, scan)
	}
	if err == errStop {
		err = nil
	}
	return err
}
