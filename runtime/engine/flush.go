// This file implements the engine's side of logs whose appends become
// durable later, in batches: it hands them the events of a case before
// it waits.

package engine

// Flusher is an optional interface of an [EventLog] whose Append returns
// before the event is durable, so that the events of one step of a case
// (a call's outcome and the steps it enables) and of many cases share
// one fsync. Flush hands the events of caseID appended so far to the
// log's writer without waiting for them.
//
// The engine calls Flush whenever a live run is about to wait (for a
// call's outcome, a timer or another caller), so that every appended
// event is on its way to the disk before the case sleeps. The log's
// owner keeps the [EventLog] promise everywhere else: before anything
// outside the engine learns of an event (a call is invoked, a caller
// is answered, a worker's completion is acknowledged) it waits until
// the case's events are durable, and it flushes after Start, Signal,
// Run, Cancel and Recover return. A crash then loses only events that
// nobody outside saw, which the engine derives again on recovery.
type Flusher interface {
	Flush(caseID string)
}

// flush hands the events of case id to the log when it is a Flusher.
func (e *Engine) flush(id string) {
	if f, ok := e.log.(Flusher); ok {
		f.Flush(id)
	}
}
