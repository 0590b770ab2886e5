// This file implements records, sequence numbers and idempotency keys.

package store

import (
	"strconv"
	"strings"
)

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

// RecordView is a record as a scan reads it, without copying: CaseID,
// Kind and Payload alias the reader's buffer and are valid only until the
// scan's callback returns. [Store.ScanViews] yields them, so a reader that
// looks at most records only to skip them allocates nothing for those.
type RecordView struct {
	Seq     Seq
	CaseID  []byte
	Kind    []byte
	Payload []byte
}

// Record returns a copy of v that owns its bytes.
func (v RecordView) Record() Record {
	return Record{Seq: v.Seq, CaseID: string(v.CaseID), Kind: string(v.Kind), Payload: append([]byte{}, v.Payload...)}
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

// KeyCase returns the case id that [Key] put first in key, and false for
// a string Key did not make.
func KeyCase(key string) (string, bool) {
	n, rest, ok := strings.Cut(key, ":")
	if !ok {
		return "", false
	}
	l, err := strconv.Atoi(n)
	if err != nil || strconv.Itoa(l) != n || l < 0 || l >= len(rest) || rest[l] != '/' {
		return "", false
	}
	return rest[:l], true
}
