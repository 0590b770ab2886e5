// This file implements the event log over runtime/store and the encoding
// of events.

package engine

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/store"
)

// StoreLog is an [EventLog] over a durable [store.Store]: one record per
// event, Kind the event kind, Payload the event encoded by [EncodeEvent].
// Case snapshots are records of kind "case-snapshot" (see
// [Snapshotter]); Replay skips them and replays every event. A StoreLog
// indexes, per store, where each case's latest snapshot is, so that
// ReplaySnapshot scans only from there.
type StoreLog struct {
	Store *store.Store
}

// Append encodes ev and appends it; it returns once it is fsync'd.
func (l StoreLog) Append(ctx context.Context, caseID string, ev *Event) error {
	b, err := EncodeEvent(ev)
	if err != nil {
		return err
	}
	_, err = l.Store.Append(ctx, store.Record{CaseID: caseID, Kind: ev.Kind.String(), Payload: b})
	return err
}

// Replay decodes the event records of caseID in order.
func (l StoreLog) Replay(ctx context.Context, caseID string, fn func(*Event) error) error {
	return l.Store.Scan(ctx, 0, func(r store.Record) error {
		if r.CaseID != caseID || r.Kind == SnapshotKind {
			return nil
		}
		ev, err := DecodeEvent(r.Payload)
		if err != nil {
			return fmt.Errorf("record %d: %w", r.Seq, err)
		}
		return fn(ev)
	})
}

type wireEvent struct {
	K  EventKind `json:"k"`
	T  int64     `json:"t,omitempty"`
	F  int32     `json:"f,omitempty"`
	Tr int32     `json:"tr,omitempty"`
	I  int32     `json:"i,omitempty"`
	O  []int32   `json:"o,omitempty"`
	ON bool      `json:"on,omitempty"` // Outs is empty but not nil
	V  []any     `json:"v,omitempty"`
	U  []any     `json:"u,omitempty"`
	UN bool      `json:"un,omitempty"`
	A  int32     `json:"a,omitempty"`
	L  int32     `json:"l,omitempty"`
	Q  int32     `json:"q,omitempty"`
	TO int64     `json:"to,omitempty"`
	D  int64     `json:"d,omitempty"`
	At int32     `json:"at,omitempty"`
	C  int32     `json:"c,omitempty"`
	N  string    `json:"n,omitempty"`
	M  string    `json:"m,omitempty"`
	Lo *wireLoc  `json:"lo,omitempty"`
	Fe []any     `json:"fe,omitempty"`
	RW float64   `json:"rw,omitempty"`
	RD bool      `json:"rd,omitempty"`
	Fr string    `json:"fr,omitempty"`
}

// wireLoc is an ir.Loc; absent means ir.NoLoc.
type wireLoc struct {
	F int32 `json:"f"`
	S int32 `json:"s"`
	E int32 `json:"e"`
}

func encodeLoc(l ir.Loc) *wireLoc {
	if !l.Known() {
		return nil
	}
	return &wireLoc{F: l.File, S: int32(l.Span.Start), E: int32(l.Span.End)}
}

func decodeLoc(w *wireLoc) ir.Loc {
	if w == nil {
		return ir.NoLoc
	}
	return ir.Loc{File: w.F, Span: source.Span{Start: source.Pos(w.S), End: source.Pos(w.E)}}
}

// EncodeEvent encodes ev as JSON, its values in the canonical encoding
// of eval values ([eval.Tag]). An event read by [DecodeEvent] and not
// yet applied encodes back to the same bytes, which are those
// encoding/json writes for the event's wireEvent (appendEvent writes
// them without reflection).
func EncodeEvent(ev *Event) ([]byte, error) {
	b, err := appendEvent(make([]byte, 0, 128), ev)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// DecodeEvent decodes an event encoded by [EncodeEvent]. The log does
// not store types, so its values are untyped ([eval.Untag]): a record
// reads as the list of its fields, an enum as its member's name.
// [Machine.Apply] types them from the program and the case's state
// before it applies the event; so does [Machine.TypeEvent].
func DecodeEvent(b []byte) (*Event, error) {
	var w wireEvent
	if err := json.Unmarshal(b, &w); err != nil {
		return nil, fmt.Errorf("bad event: %v", err)
	}
	ev := &Event{Kind: w.K, Time: w.T, Frame: w.F, Trans: w.Tr, Inv: w.I, Outs: w.O, Attempts: w.A,
		Limit: w.L, Quorum: w.Q, Timeout: w.TO, Due: w.D, Attempt: w.At, Choice: w.C, Name: w.N, Message: w.M, Loc: decodeLoc(w.Lo),
		Reward: w.RW, Rewarded: w.RD, From: w.Fr}
	if w.ON {
		ev.Outs = []int32{}
	}
	var err error
	if ev.Values, err = eval.UntagAll(w.V); err != nil {
		return nil, err
	}
	if ev.Undo, err = eval.UntagAll(w.U); err != nil {
		return nil, err
	}
	if ev.Features, err = eval.UntagAll(w.Fe); err != nil {
		return nil, err
	}
	if w.UN {
		ev.Undo = []eval.Value{}
	}
	ev.untyped = len(ev.Values) > 0 || len(ev.Undo) > 0 || len(ev.Features) > 0
	return ev, nil
}
