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
	return InvocationKey(caseID, transition, -1, attempt)
}

// InvocationKey is Key(caseID, name+"#"+strconv.Itoa(inv), attempt), or
// Key(caseID, name, attempt) for a negative inv, in one allocation: the
// engine makes one for every attempt.
func InvocationKey(caseID, name string, inv, attempt int) string {
	var num [20]byte
	suffix := []byte(nil)
	if inv >= 0 {
		suffix = strconv.AppendInt(append(num[:0], '#'), int64(inv), 10)
	}
	var b strings.Builder
	b.Grow(len(caseID) + len(name) + len(suffix) + 3*20 + 3)
	var n [20]byte
	b.Write(strconv.AppendInt(n[:0], int64(len(caseID)), 10))
	b.WriteByte(':')
	b.WriteString(caseID)
	b.WriteByte('/')
	b.Write(strconv.AppendInt(n[:0], int64(len(name)+len(suffix)), 10))
	b.WriteByte(':')
	b.WriteString(name)
	b.Write(suffix)
	b.WriteByte('/')
	b.Write(strconv.AppendInt(n[:0], int64(attempt), 10))
	return b.String()
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
