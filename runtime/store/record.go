// This file implements records, sequence numbers and idempotency keys.

package store

import "strconv"

// Seq is the position of a record in the log. The store assigns sequence
// numbers densely from 1, in commit order, with no gaps across segments and
// restarts.
type Seq uint64

// Record is one entry of the event log: usually one transition of one case.
type Record struct {
	// Seq is assigned by the store; it is ignored by Append.
	Seq Seq
	// CaseID names the case the record belongs to.
	CaseID string
	// Kind says what the record is (for example "fire" or "task-done"); the
	// store does not interpret it.
	Kind string
	// Payload is opaque to the store.
	Payload []byte
}

// Key returns the idempotency key of one attempt of a task invocation:
// task calls are at-least-once, so a worker that sees the same key twice
// must apply the call's effect once. Each part is length-prefixed, so no
// choice of case id or transition name can make two different triples
// produce the same key.
func Key(caseID, transition string, attempt int) string {
	b := make([]byte, 0, len(caseID)+len(transition)+24)
	b = strconv.AppendInt(b, int64(len(caseID)), 10)
	b = append(b, ':')
	b = append(b, caseID...)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(len(transition)), 10)
	b = append(b, ':')
	b = append(b, transition...)
	b = append(b, '/')
	b = strconv.AppendInt(b, int64(attempt), 10)
	return string(b)
}
