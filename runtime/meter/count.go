// This file implements counting a month's usage from the event log.

package meter

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash"
	"time"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/store"
)

// Usage is what one month of a data directory's event log records.
type Usage struct {
	Version  int    `json:"version"`
	Customer string `json:"customer"`
	// Tenant is the tenant the usage is of; empty for the whole
	// deployment (until tenants exist, always).
	Tenant string `json:"tenant,omitempty"`
	Month  string `json:"month"` // "2006-01", UTC
	// Cases is the number of cases started (start events).
	Cases int64 `json:"cases"`
	// Transitions is the number of transitions fired (fire and timer
	// events), what the transitions_per_month limit counts.
	Transitions int64 `json:"transitions"`
	// Events is the number of events of every kind.
	Events int64 `json:"events"`
	// TaskTimeNS is the time task and kernel calls ran, in nanoseconds:
	// for each completed or failed attempt, its end event's time less
	// the time its attempt started (the call's fire event, or the retry
	// event that readied it).
	TaskTimeNS int64 `json:"task_time_ns"`
	// StorageBytes is the bytes of the month's event records (case id,
	// kind and payload) the log stores.
	StorageBytes int64 `json:"storage_bytes"`
	// AcceleratorNS and AcceleratorCalls are the time and the number of
	// kernel calls an accelerator ran in the month, from the data
	// directory's ledger (accel.go), not from the log, which does not
	// record kernel calls.
	AcceleratorNS    int64 `json:"accelerator_ns,omitempty"`
	AcceleratorCalls int64 `json:"accelerator_calls,omitempty"`
	// FirstSeq and LastSeq are the sequence numbers of the month's first
	// and last event records (0 when there are none).
	FirstSeq uint64 `json:"first_seq"`
	LastSeq  uint64 `json:"last_seq"`
	// Digest is the SHA-256, in hex, of the month's event records in log
	// order: for each, its sequence number (8 bytes, big-endian) and its
	// case id, kind and payload, each preceded by its length (4 bytes,
	// big-endian). It binds the counts to exactly those records.
	Digest string `json:"digest"`
	// AppliedIndex is, for a raft cluster's report (knhk usage report
	// --server), the raft index of the tenant's group the month was
	// counted at: the records are those of entries up to it, so any
	// node that applied it recounts the report exactly, even while the
	// month is open. 0 (absent) for a single server's log.
	AppliedIndex uint64 `json:"applied_index,omitempty"`
}

// Version is the version of the usage report this package writes and
// reads.
const Version = 1

// Month returns the metering month of a Unix nanosecond time.
func Month(ns int64) string { return time.Unix(0, ns).UTC().Format("2006-01") }

// counter accumulates one month.
type counter struct {
	u   Usage
	h   hash.Hash
	buf []byte
	// started holds, per case and invocation, when its current attempt
	// started.
	started map[string]map[int32]int64
	// calls counts, per case, the invocations made so far, so that a
	// call's fire event gets the id the engine gives it.
	calls map[string]int32
}

// Count counts month of the event log in st.
func Count(ctx context.Context, st *store.Store, month string) (Usage, error) {
	c := &counter{u: Usage{Version: Version, Month: month}, h: sha256.New(), started: map[string]map[int32]int64{}, calls: map[string]int32{}}
	err := st.Scan(ctx, 0, func(r store.Record) error { return c.add(r) })
	if err != nil {
		return Usage{}, err
	}
	c.u.Digest = hex.EncodeToString(c.h.Sum(nil))
	return c.u, nil
}

// eventKinds maps a record kind to its event kind; other records
// (snapshots) are not events.
var eventKinds = func() map[string]engine.EventKind {
	m := map[string]engine.EventKind{}
	for k := engine.EvStart; k.String() != fmt.Sprintf("event(%d)", k); k++ {
		m[k.String()] = k
	}
	return m
}()

func (c *counter) add(r store.Record) error {
	kind, ok := eventKinds[r.Kind]
	if !ok {
		return nil
	}
	ev, err := engine.DecodeEvent(r.Payload)
	if err != nil {
		return fmt.Errorf("record %d of case %s: %w", r.Seq, r.CaseID, err)
	}
	if ev.Kind != kind {
		return fmt.Errorf("record %d of case %s: kind %s holds a %s event", r.Seq, r.CaseID, r.Kind, ev.Kind)
	}
	c.task(r.CaseID, ev)
	if Month(ev.Time) != c.u.Month {
		return nil
	}
	u := &c.u
	u.Events++
	switch ev.Kind {
	case engine.EvStart:
		u.Cases++
	case engine.EvFire, engine.EvTimer:
		u.Transitions++
	}
	u.StorageBytes += int64(len(r.CaseID) + len(r.Kind) + len(r.Payload))
	if u.FirstSeq == 0 {
		u.FirstSeq = uint64(r.Seq)
	}
	u.LastSeq = uint64(r.Seq)
	c.buf = binary.BigEndian.AppendUint64(c.buf[:0], uint64(r.Seq))
	for _, s := range []string{r.CaseID, r.Kind} {
		c.buf = binary.BigEndian.AppendUint32(c.buf, uint32(len(s)))
		c.buf = append(c.buf, s...)
	}
	c.buf = binary.BigEndian.AppendUint32(c.buf, uint32(len(r.Payload)))
	c.h.Write(c.buf)
	c.h.Write(r.Payload)
	return nil
}
