// This file implements the expiry of leases nobody extended: the leased
// entries in the order their leases end and one timer for the first,
// instead of a timer per delivery (each a few allocations and a
// timer-heap insertion and removal, for a lease that almost always ends
// with its task long before it runs out).

package queue

import (
	"fmt"
	"time"
)

// leases lists the leased entries of a broker by the end of their
// lease. Every lease lasts the broker's same duration from its start or
// last heartbeat, so a new or extended lease goes last and the list
// stays in order. b.mu guards it.
type leases struct {
	head, tail *entry
	timer      *time.Timer // fires at or before the head's end
	armed      bool        // the timer will fire (expireDue re-arms it)
}

// add appends e, whose leaseEnd is set, and arms the timer if it is
// not. b.mu is held.
func (l *leases) add(b *Broker, e *entry) {
	e.lprev, e.lnext = l.tail, nil
	if l.tail != nil {
		l.tail.lnext = e
	} else {
		l.head = e
	}
	l.tail = e
	if l.armed {
		return // it fires at the latest at the head's end, before e's
	}
	l.armed = true
	if l.timer == nil {
		l.timer = time.AfterFunc(time.Until(e.leaseEnd), b.expireDue)
		return
	}
	l.timer.Reset(time.Until(e.leaseEnd))
}

// remove takes e, which is in the list, out of it. The timer stays
// armed: firing early costs a look at the head. b.mu is held.
func (l *leases) remove(e *entry) {
	if e.lprev != nil {
		e.lprev.lnext = e.lnext
	} else {
		l.head = e.lnext
	}
	if e.lnext != nil {
		e.lnext.lprev = e.lprev
	} else {
		l.tail = e.lprev
	}
	e.lprev, e.lnext = nil, nil
}

// expireDue ends the attempts whose leases have run out: each counts as
// a failed attempt ([ErrLeaseExpired]), and the engine retries per the
// task's clauses. A heartbeat that came first moved its entry back.
func (b *Broker) expireDue() {
	b.mu.Lock()
	now := time.Now()
	var ended []*entry
	for e := b.leases.head; e != nil && !now.Before(e.leaseEnd); e = b.leases.head {
		q := b.queue(e.job.Queue)
		q.counts.Expired++
		who := "its worker"
		if e.worker != "" {
			who = "worker " + e.worker
		}
		// The engine's caller names the task and the queue.
		b.finish(q, e, nil,
			fmt.Errorf("%w: %s held it for %s without a heartbeat", ErrLeaseExpired, who, b.lease), endExpired)
		ended = append(ended, e)
	}
	if h := b.leases.head; h != nil {
		b.leases.timer.Reset(time.Until(h.leaseEnd))
	} else {
		b.leases.armed = false
	}
	b.mu.Unlock()
	for _, e := range ended {
		e.fire()
	}
}
