// This file implements where a live run's call outcomes arrive: a
// queue that never blocks the caller that puts an outcome in, so that
// a worker started without a goroutine of its own (a [Starter]) can
// report from whatever goroutine finishes its call, a server's stream
// applying a worker's message included.

package engine

import "sync"

// outbox holds the outcomes of a run's calls, oldest first, until the
// run takes them.
type outbox struct {
	mu   sync.Mutex
	outs []liveOutcome // from head on
	head int
	// ready has a token whenever outs may hold an outcome the run has
	// not been woken for.
	ready chan struct{}
}

func newOutbox() *outbox { return &outbox{ready: make(chan struct{}, 1)} }

// put adds o and wakes the run; it never blocks.
func (b *outbox) put(o liveOutcome) {
	b.mu.Lock()
	b.outs = append(b.outs, o)
	b.mu.Unlock()
	b.wake()
}

func (b *outbox) wake() {
	select {
	case b.ready <- struct{}{}:
	default:
	}
}

// take removes the oldest outcome, false when there is none (a token
// of ready can outlive the outcome it announced). With more waiting it
// leaves a token in ready, so that the run's next wait returns at once.
func (b *outbox) take() (liveOutcome, bool) {
	b.mu.Lock()
	if b.head == len(b.outs) {
		b.mu.Unlock()
		return liveOutcome{}, false
	}
	o := b.outs[b.head]
	b.outs[b.head] = liveOutcome{}
	b.head++
	more := b.head < len(b.outs)
	if !more {
		b.outs, b.head = b.outs[:0], 0
	}
	b.mu.Unlock()
	if more {
		b.wake()
	}
	return o, true
}
