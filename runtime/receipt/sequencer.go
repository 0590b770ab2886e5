// This file implements the sequencer: Record queues events, and one
// goroutine turns them into chained receipts in the order they were
// queued.

package receipt

import (
	"time"

	"github.com/knhk/knhk/runtime/engine"
)

// queued is an event waiting for the sequencer to become a receipt.
type queued struct {
	caseID, desc, kind string
	frame, trans       int32
	ev                 Digest
}

// maxQueued bounds the events waiting for the sequencer; Record waits
// beyond it. The sequencer wakes when wakeQueued events wait, or every
// sequenceEvery: waking it for each event cost more than the receipt.
const (
	maxQueued     = 1 << 16
	wakeQueued    = 256
	sequenceEvery = 2 * time.Millisecond
)

// Record queues the receipt of ev, just committed for caseID, whose
// program has descriptor hash descriptor. The receipt is made by the
// sequencer goroutine: appends from many cases then do not contend for
// the log's chain, and only the event's digest is computed here. An
// error of the log (a failed write) is returned by the Record calls
// after it and by Checkpoint and Close.
func (r *Recorder) Record(caseID, descriptor string, ev *engine.Event) error {
	evd, err := EventDigest(ev)
	if err != nil {
		return err
	}
	r.qmu.Lock()
	for len(r.q) >= maxQueued && r.qerr == nil {
		r.qcond.Wait()
	}
	if r.qerr != nil {
		err := r.qerr
		r.qmu.Unlock()
		return err
	}
	r.q = append(r.q, queued{caseID: caseID, desc: descriptor, kind: ev.Kind.String(), frame: ev.Frame, trans: ev.Trans, ev: evd})
	r.qn++
	wake := len(r.q) == wakeQueued
	r.qmu.Unlock()
	if wake {
		select {
		case r.qwake <- struct{}{}:
		default:
		}
	}
	return nil
}

// sequencer turns queued events into receipts, in the order Record
// queued them.
func (r *Recorder) sequencer() {
	defer close(r.qdone)
	t := time.NewTicker(sequenceEvery)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-r.qwake:
		case <-t.C:
		}
		r.qmu.Lock()
		batch := r.q
		r.q = r.qspare[:0]
		r.qcond.Broadcast()
		r.qmu.Unlock()
		r.mu.Lock()
		for i := range batch {
			if r.err != nil {
				break
			}
			r.appendLocked(&batch[i])
		}
		err := r.err
		r.cond.Broadcast()
		r.mu.Unlock()
		r.qmu.Lock()
		if err != nil && r.qerr == nil {
			r.qerr = err
			r.qcond.Broadcast()
		}
		clear(batch)
		r.qspare = batch[:0]
		r.qmu.Unlock()
	}
}

// appendLocked makes and writes the receipt of q.
func (r *Recorder) appendLocked(q *queued) {
	cc := r.cases[q.caseID]
	if cc == nil {
		cc = &caseChain{}
		r.cases[q.caseID] = cc
	}
	in := cc.out
	rc := Receipt{Seq: r.next, Case: q.caseID, Kind: q.kind, Frame: q.frame, Trans: q.trans,
		Descriptor: q.desc, Input: in, Event: q.ev, Output: OutputOf(in, q.ev), Prev: r.prev}
	if r.format == formatJSON {
		rc.Hash = rc.ComputeHash()
		r.line = appendLine(r.line[:0], &rc)
		if _, err := r.w.Write(r.line); err != nil {
			r.fail(err)
			return
		}
	} else {
		// The hashed encoding is the record: encoded once, hashed once.
		r.line = appendFields(append(r.line[:0], hashPrefix...), &rc)
		if err := writeRecord(r.w, r.line, &rc); err != nil {
			r.fail(err)
			return
		}
		r.off += int64(uvarintLen(uint64(len(r.line)-len(hashPrefix)+len(rc.Hash))) + len(r.line) - len(hashPrefix) + len(rc.Hash))
	}
	if err := r.rng.Append(leafHash(rc.Hash), nil); err != nil {
		r.fail(err)
		return
	}
	cc.out, cc.n = rc.Output, cc.n+1
	r.prev = rc.Hash
	r.next++
	if r.next-r.cutSize >= uint64(r.opts.Every) {
		r.cutLocked()
	}
}
