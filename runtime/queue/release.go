// This file implements Release: a delivery that never reached its
// worker goes back to its queue.

package queue

// Release gives task id, leased under token but never delivered (the
// stream it was pushed on broke), back to the front of its queue, for
// the next poller, as a poll that ends while a task is handed to it
// does. It is not an attempt: the engine's retry count is unchanged.
// It returns the error Heartbeat would for a task no longer held.
func (b *Broker) Release(id, token string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	e, err := b.held(id, token)
	if err != nil {
		return err
	}
	b.unlease(b.queue(e.job.Queue), e)
	return nil
}
