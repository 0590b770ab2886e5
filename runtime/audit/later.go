// This file implements the appends nobody waits on: the record of a
// call refused before it did anything rides the next group commit of
// an Append, or a commit of its own a short while later, so a flood of
// refused calls costs the disk a bounded number of fsyncs a second
// however fast it comes, instead of keeping the writer committing back
// to back (each such commit delayed every other tenant's records, and
// its journal writes every other tenant's store syncs, on the shared
// disk).

package audit

import "time"

// DefaultLaterDelay is how long a record queued by AppendLater waits, at
// most, for an Append's commit to ride before the writer commits it on
// its own: a flood with no admitted call beside it costs at most one
// fsync per DefaultLaterDelay.
const DefaultLaterDelay = 50 * time.Millisecond

// AppendLater queues r as Append does but neither waits for it nor wakes
// the writer: r is written with the next batch an Append (or Flush, or
// Close) commits, or at most the log's later delay after the first such
// record was queued. then, if not nil, is called with the batch's
// outcome once r is durable or failed; it must not block. It returns
// false, queuing nothing, when limit records already wait that way (or
// the log failed or closed): the caller should Append, and so wait, so
// that a flood faster than the disk slows itself and no record is
// dropped.
//
// A record appended so was never acknowledged as durable to anyone: a
// crash before its commit loses it, which is fit only for calls that
// had no effect (a refusal), whose answer does not say it was recorded.
func (l *Log) AppendLater(r Record, limit int, then func(error)) bool {
	r.clip()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil || l.closing || l.later >= limit {
		return false
	}
	l.queue = append(l.queue, &pending{r: r, then: then})
	l.later++
	if l.later == 1 {
		gen := l.laterGen
		time.AfterFunc(l.laterDelay, func() {
			l.mu.Lock()
			due := l.laterGen == gen && l.later > 0
			l.mu.Unlock()
			if due {
				l.kick()
			}
		})
	}
	return true
}

// SetLaterDelay sets how long a record queued by AppendLater may wait
// for a commit to ride (DefaultLaterDelay when the log opens); it
// applies to records queued after it.
func (l *Log) SetLaterDelay(d time.Duration) {
	l.mu.Lock()
	l.laterDelay = d
	l.mu.Unlock()
}

// Flush returns once every record queued before it, by AppendLater too,
// is durable (or with the error that stopped it).
func (l *Log) Flush() error {
	p := &pending{marker: true, done: make(chan error, 1)}
	if err := l.enqueue(p); err != nil {
		return err
	}
	return <-p.done
}

// Commits returns the number of batches this Log has written (one write
// and one fsync each).
func (l *Log) Commits() uint64 { return l.commits.Load() }
