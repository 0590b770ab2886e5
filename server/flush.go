// This file implements group commit across the events of a case and
// across cases: the engine's appends wait in memory per case, a flush
// hands them to the store as one batch without waiting, and the
// store's committer makes the batches of many cases durable with one
// fsync. What the Service tells the outside world (a start or signal
// acknowledged, a task handed to a worker, a worker's completion
// acknowledged, a result) waits until the case's events are durable, so
// a crash loses only events nobody outside saw, which recovery derives
// again: a task's outcome and the step it enables, say, share one fsync
// instead of paying one each. The one exception is a queue task whose
// step recovery derives again: it goes to its worker at once
// (dispatch.go), and its worker's completion is acknowledged only once
// the step is durable.

package server

import (
	"context"
	"sync"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/store"
)

var _ engine.Flusher = (*eventLog)(nil)

// pending is what one case appended that is not durable yet.
type pending struct {
	// submit orders the case's batches on their way to the store: the
	// records are taken and handed over under it.
	submit sync.Mutex

	recs     []store.Record
	seen     []*engine.Event // recs' events for the observer, if any (nil entries for snapshots)
	appended uint64          // records added since the case's pending began
	durable  uint64          // of those, the ones the store made durable
	err      error           // the first batch the store failed
	waits    []durableWait
	// held keeps the records from the store until the case's start is
	// recorded (hold).
	held bool
	// outsideUpto is the count of appended records up to the last one
	// the engine would not derive again on recovery (dispatch.go), 0 for
	// none; outcomeAt is that record's count when it is an outcome not
	// yet vouched for, and outsideBefore what outsideUpto was before it.
	outsideUpto, outcomeAt, outsideBefore uint64
}

// durableWait is one waiter for the case's records up to upto.
type durableWait struct {
	upto uint64
	fn   func(error)
}

// add appends rec (with its event for the observer, and the mark of
// how its step was decided) to case caseID's pending records.
func (l *eventLog) add(caseID string, rec store.Record, ev *engine.Event, m mark) error {
	sh := l.shard(caseID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	p := sh.m[caseID]
	if p == nil {
		p = &casePos{}
		sh.m[caseID] = p
	}
	if p.pend == nil {
		p.pend = &pending{}
	}
	if err := p.pend.err; err != nil {
		return err
	}
	p.pend.recs = append(p.pend.recs, rec)
	if l.observe != nil {
		p.pend.seen = append(p.pend.seen, ev)
	}
	p.pend.appended++
	p.pend.noteMarkLocked(m)
	return nil
}

// Flush hands the pending records of caseID to the store as one batch
// and returns without waiting for them.
func (l *eventLog) Flush(caseID string) {
	sh := l.shard(caseID)
	sh.mu.Lock()
	p := sh.m[caseID]
	if p == nil || p.pend == nil || len(p.pend.recs) == 0 {
		sh.mu.Unlock()
		return
	}
	pd := p.pend
	if pd.held {
		sh.mu.Unlock()
		return // hold's release flushes
	}
	sh.mu.Unlock()
	// The store's committer calls back under the shard's lock, and
	// handing over may wait for the committer: the shard's lock must
	// not be held while handing over.
	pd.submit.Lock()
	defer pd.submit.Unlock()
	sh.mu.Lock()
	recs, seen := pd.recs, pd.seen
	pd.recs, pd.seen = nil, nil
	sh.mu.Unlock()
	if len(recs) == 0 {
		return // another flush took them
	}
	err := l.st.AppendAsync(context.Background(), recs, func(pos []store.Position, err error) {
		l.durableBatch(caseID, pd, recs, seen, pos, err)
	})
	if err != nil {
		l.durableBatch(caseID, pd, recs, seen, nil, err)
	}
}

// durableBatch is the store's word on a batch of case caseID: the
// positions are noted, the observer sees the events, and the waiters
// whose records are all durable now go on.
func (l *eventLog) durableBatch(caseID string, pd *pending, recs []store.Record, seen []*engine.Event, pos []store.Position, err error) {
	sh := l.shard(caseID)
	sh.mu.Lock()
	p := sh.m[caseID]
	started := false
	if err == nil && p != nil {
		for i := range recs {
			snap := recs[i].Kind == engine.SnapshotKind
			if p.noteLocked(pos[i].Seq, snap) {
				started = true
			}
			if snap {
				p.snapAt = pos[i]
			}
		}
	}
	if err != nil && pd.err == nil {
		pd.err = err
	}
	pd.durable += uint64(len(recs))
	var ready []durableWait
	keep := pd.waits[:0]
	for _, w := range pd.waits {
		if w.upto <= pd.durable || pd.err != nil {
			ready = append(ready, w)
		} else {
			keep = append(keep, w)
		}
	}
	clear(pd.waits[len(keep):])
	pd.waits = keep
	if p != nil && p.pend == pd && pd.err == nil && !pd.held && pd.durable == pd.appended && len(pd.waits) == 0 {
		p.pend = nil // a case that waits holds no buffers
	}
	werr := pd.err
	sh.mu.Unlock()
	if started && l.started != nil {
		l.started(caseID)
	}
	if err == nil && l.observe != nil {
		for _, ev := range seen {
			if ev != nil {
				l.observe(ev)
			}
		}
	}
	for _, w := range ready {
		w.fn(werr)
	}
}

// hold keeps what case caseID appends from the store until release is
// called: with nil, the records go on their way; with an error, they
// never do, and every waiter and later append gets the error. A start
// holds its case's first events while its metadata is written, which
// must be durable first, so that the two writes overlap.
func (l *eventLog) hold(caseID string) (release func(error)) {
	sh := l.shard(caseID)
	sh.mu.Lock()
	p := sh.m[caseID]
	if p == nil {
		p = &casePos{}
		sh.m[caseID] = p
	}
	if p.pend == nil {
		p.pend = &pending{}
	}
	pd := p.pend
	pd.held = true
	sh.mu.Unlock()
	return func(err error) {
		sh.mu.Lock()
		pd.held = false
		var failed []durableWait
		if err != nil {
			if pd.err == nil {
				pd.err = err
			}
			pd.recs, pd.seen = nil, nil
			failed, pd.waits = pd.waits, nil
		}
		sh.mu.Unlock()
		for _, w := range failed {
			w.fn(err)
		}
		if err == nil {
			l.Flush(caseID)
		}
	}
}

// afterDurable calls fn once every record case caseID appended so far
// is durable (at once when they are), or with the error that kept one
// out of the log. It does not flush.
func (l *eventLog) afterDurable(caseID string, fn func(error)) {
	sh := l.shard(caseID)
	sh.mu.Lock()
	p := sh.m[caseID]
	if p == nil || p.pend == nil || p.pend.err == nil && p.pend.durable == p.pend.appended {
		sh.mu.Unlock()
		fn(nil)
		return
	}
	pd := p.pend
	if err := pd.err; err != nil {
		sh.mu.Unlock()
		fn(err)
		return
	}
	pd.waits = append(pd.waits, durableWait{upto: pd.appended, fn: fn})
	sh.mu.Unlock()
}

// sync flushes case caseID and waits until everything it appended so
// far is durable, or ctx ends.
func (l *eventLog) sync(ctx context.Context, caseID string) error {
	ch := make(chan error, 1)
	l.afterDurable(caseID, func(err error) { ch <- err })
	l.Flush(caseID)
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flushAll flushes every case with pending records (a drain, before the
// store closes).
func (l *eventLog) flushAll() {
	var ids []string
	for i := range l.pos {
		sh := &l.pos[i]
		sh.mu.Lock()
		for id, p := range sh.m {
			if p.pend != nil && len(p.pend.recs) > 0 {
				ids = append(ids, id)
			}
		}
		sh.mu.Unlock()
	}
	for _, id := range ids {
		l.Flush(id)
	}
}
