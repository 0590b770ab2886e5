// This file implements the checkpoint writer: checkpoints are cut under
// the Recorder's lock, then signed and made durable by a goroutine of
// their own.

package receipt

import (
	"fmt"
	"time"
)

// maxPendingCuts is how many decided checkpoints the writer signs one
// by one; beyond it, it signs only the latest.
const maxPendingCuts = 16

// cut is a checkpoint decided but not yet written: the tree's size and
// root when it was cut.
type cut struct {
	size uint64
	root Digest
	time time.Time
}

// cutLocked decides a checkpoint of every receipt so far: it hands the
// buffered receipts to the file (a write, not an fsync) and queues the
// size and root for the writer. Cuts are queued in order under r.mu, so
// the checkpoint file only grows.
func (r *Recorder) cutLocked() {
	if err := r.w.Flush(); err != nil {
		r.fail(err)
		return
	}
	root, err := rootOf(r.rng)
	if err != nil {
		r.fail(err)
		return
	}
	now := r.opts.Now()
	r.pending = append(r.pending, cut{size: r.next, root: root, time: now})
	r.cutSize, r.lastCP = r.next, now
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// fail records the first error of the log; every call after it fails.
func (r *Recorder) fail(err error) {
	if r.err == nil {
		r.err = fmt.Errorf("receipt log: %w", err)
	}
	r.cond.Broadcast()
}

// writer writes the queued checkpoints, and cuts one when receipts have
// waited Interval. It runs in its own goroutine, so that the fsyncs and
// the signature of a checkpoint never hold up a transition.
func (r *Recorder) writer() {
	defer close(r.done)
	var tick <-chan time.Time
	if r.opts.Interval > 0 {
		t := time.NewTicker(r.opts.Interval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-r.stop:
			return
		case <-r.wake:
		case <-tick:
			r.mu.Lock()
			if r.err == nil && r.next > r.cutSize && r.opts.Now().Sub(r.lastCP) >= r.opts.Interval {
				r.cutLocked()
			}
			r.mu.Unlock()
		}
		r.mu.Lock()
		todo := r.pending
		r.pending = nil
		r.mu.Unlock()
		if len(todo) > maxPendingCuts {
			// The signer is behind (a slow key such as SLH-DSA-128s, a
			// slow disk): the latest checkpoint covers every earlier one,
			// so only it is signed.
			todo = todo[len(todo)-1:]
		}
		for _, c := range todo {
			err := r.writeCheckpoint(c)
			r.mu.Lock()
			if err != nil {
				r.fail(err)
			} else {
				r.signedSize = c.size
				r.cond.Broadcast()
			}
			r.mu.Unlock()
			if err != nil {
				break
			}
		}
	}
}

// writeCheckpoint makes the receipts durable, then signs and appends the
// checkpoint c of them and makes it durable: a signed checkpoint never
// covers receipts a crash could lose.
func (r *Recorder) writeCheckpoint(c cut) error {
	if err := r.logf.Sync(); err != nil {
		return err
	}
	cp := &Checkpoint{Size: c.size, Root: c.root, Time: c.time.UnixMilli()}
	if err := signCheckpoint(cp, r.opts.Key); err != nil {
		return err
	}
	line, err := encodeCheckpoint(cp)
	if err != nil {
		return err
	}
	if _, err := r.cpf.Write(line); err != nil {
		return err
	}
	return r.cpf.Sync()
}
