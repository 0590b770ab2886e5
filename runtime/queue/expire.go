// This file implements the broker's deadlines: leases nobody extended
// run out, and a finished task's wait for the engine's record ends. Each
// is a list of entries in the order their deadlines come and one timer
// for the first, instead of a timer per entry (each a few allocations
// and a timer-heap insertion and removal, for a deadline that almost
// never comes).

package queue

import (
	"fmt"
	"time"
)

// deadlines lists entries by their due time. Every deadline of a list
// is the same duration from when it was set (a lease from its start or
// last heartbeat, a record wait from the completion), so a new one goes
// last and the list stays in order. An entry is in at most one list: in
// the broker's leases while leased, in its record waits once finished.
// b.mu guards it.
type deadlines struct {
	head, tail *entry
	timer      *time.Timer // fires at or before the head's due time
	armed      bool        // the timer will fire (its function re-arms it)
}

// add appends e, whose due time is set, and arms the timer with f if it
// is not armed. b.mu is held.
func (l *deadlines) add(e *entry, f func()) {
	e.dprev, e.dnext = l.tail, nil
	if l.tail != nil {
		l.tail.dnext = e
	} else {
		l.head = e
	}
	l.tail = e
	if l.armed {
		return // it fires at the latest at the head's due time, before e's
	}
	l.armed = true
	if l.timer == nil {
		l.timer = time.AfterFunc(time.Until(e.due), f)
		return
	}
	l.timer.Reset(time.Until(e.due))
}

// remove takes e out of the list; it does nothing for an entry not in
// it (expireDue's entries, taken out by due, are finished after). The
// timer stays armed: firing early costs a look at the head. b.mu is
// held.
func (l *deadlines) remove(e *entry) {
	if e.dprev == nil && l.head != e {
		return
	}
	if e.dprev != nil {
		e.dprev.dnext = e.dnext
	} else {
		l.head = e.dnext
	}
	if e.dnext != nil {
		e.dnext.dprev = e.dprev
	} else {
		l.tail = e.dprev
	}
	e.dprev, e.dnext = nil, nil
}

// due takes the entries due at now out of the list, oldest first, and
// re-arms the timer for the next. The list's timer function calls it.
// b.mu is held.
func (l *deadlines) due(now time.Time) []*entry {
	var out []*entry
	for e := l.head; e != nil && !now.Before(e.due); e = l.head {
		l.remove(e)
		out = append(out, e)
	}
	if l.head != nil {
		l.timer.Reset(time.Until(l.head.due))
	} else {
		l.armed = false
	}
	return out
}

// expireDue ends the attempts whose leases have run out: each counts as
// a failed attempt ([ErrLeaseExpired]), and the engine retries per the
// task's clauses. A heartbeat that came first moved its entry back.
func (b *Broker) expireDue() {
	b.mu.Lock()
	ended := b.leases.due(time.Now())
	for _, e := range ended {
		q := b.queue(e.job.Queue)
		q.counts.Expired++
		who := "its worker"
		if e.worker != "" {
			who = "worker " + e.worker
		}
		// The engine's caller names the task and the queue.
		b.finish(q, e, nil,
			fmt.Errorf("%w: %s held it for %s without a heartbeat", ErrLeaseExpired, who, b.lease), endExpired)
	}
	b.mu.Unlock()
	for _, e := range ended {
		e.fire()
	}
}

// recordsDue ends the waits for the engine's record that ran past the
// broker's RecordWait: the worker is told its outcome may not have been
// kept (the engine dropped it, the attempt withdrawn meanwhile, or is
// stuck), and the engine retries the attempt if it was not.
func (b *Broker) recordsDue() {
	b.mu.Lock()
	late := b.records.due(time.Now())
	n := 0
	for _, e := range late {
		// One a later entry of the same ID took the place of is not
		// waited for any more.
		if b.unrec[e.job.ID] == e {
			delete(b.unrec, e.job.ID)
			late[n] = e
			n++
		}
	}
	late = late[:n]
	b.mu.Unlock()
	for _, e := range late {
		e.then(notRecorded(e, fmt.Errorf("no record after %s", b.recordWait)))
	}
}
