// This file implements the event log over runtime/store and the encoding
// of events.

package engine

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/source"
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

// EncodeEvent encodes ev as JSON. Values must be nil, bool, int, int64,
// float64, string, []byte, time.Duration, time.Time, []any or
// map[string]any of those; they are tagged so that they decode to the
// same Go values. (runtime/eval's values will plug in here.)
func EncodeEvent(ev *Event) ([]byte, error) {
	w := wireEvent{K: ev.Kind, T: ev.Time, F: ev.Frame, Tr: ev.Trans, I: ev.Inv, O: ev.Outs,
		ON: ev.Outs != nil && len(ev.Outs) == 0, A: ev.Attempts, L: ev.Limit, Q: ev.Quorum,
		TO: ev.Timeout, D: ev.Due, At: ev.Attempt, C: ev.Choice, N: ev.Name, M: ev.Message, Lo: encodeLoc(ev.Loc), UN: ev.Undo != nil && len(ev.Undo) == 0,
		RW: ev.Reward, RD: ev.Rewarded, Fr: ev.From}
	var err error
	if w.V, err = tagAll(ev.Values); err != nil {
		return nil, err
	}
	if w.Fe, err = tagAll(ev.Features); err != nil {
		return nil, err
	}
	if w.U, err = tagAll(ev.Undo); err != nil {
		return nil, err
	}
	return json.Marshal(&w)
}

// DecodeEvent decodes an event encoded by [EncodeEvent].
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
	if ev.Values, err = untagAll(w.V); err != nil {
		return nil, err
	}
	if ev.Undo, err = untagAll(w.U); err != nil {
		return nil, err
	}
	if ev.Features, err = untagAll(w.Fe); err != nil {
		return nil, err
	}
	if w.UN {
		ev.Undo = []any{}
	}
	return ev, nil
}

func tagAll(vs []any) ([]any, error) {
	if vs == nil {
		return nil, nil
	}
	out := make([]any, len(vs))
	for i, v := range vs {
		t, err := tag(v)
		if err != nil {
			return nil, err
		}
		out[i] = t
	}
	return out, nil
}

// tag converts a value to JSON with its Go type kept: strings, bools and
// null stand for themselves, everything else is a one-key object.
func tag(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, string:
		return x, nil
	case int:
		return map[string]any{"i": strconv.FormatInt(int64(x), 10)}, nil
	case int64:
		return map[string]any{"i": strconv.FormatInt(x, 10)}, nil
	case float64:
		return map[string]any{"f": x}, nil
	case time.Duration:
		return map[string]any{"d": strconv.FormatInt(int64(x), 10)}, nil
	case time.Time:
		return map[string]any{"t": strconv.FormatInt(x.UnixNano(), 10)}, nil
	case []byte:
		return map[string]any{"b": base64.StdEncoding.EncodeToString(x)}, nil
	case []any:
		l, err := tagAll(x)
		if l == nil {
			l = []any{}
		}
		return map[string]any{"l": l}, err
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			t, err := tag(e)
			if err != nil {
				return nil, err
			}
			m[k] = t
		}
		return map[string]any{"m": m}, nil
	}
	return nil, fmt.Errorf("cannot encode a value of type %T", v)
}

func untagAll(vs []any) ([]any, error) {
	if vs == nil {
		return nil, nil
	}
	out := make([]any, len(vs))
	for i, v := range vs {
		u, err := untag(v)
		if err != nil {
			return nil, err
		}
		out[i] = u
	}
	return out, nil
}

func untag(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, string:
		return x, nil
	case map[string]any:
		if len(x) != 1 {
			break
		}
		for k, e := range x {
			s, _ := e.(string)
			switch k {
			case "i", "d", "t":
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("bad tagged value %q", s)
				}
				switch k {
				case "i":
					return n, nil
				case "d":
					return time.Duration(n), nil
				}
				return time.Unix(0, n).UTC(), nil
			case "f":
				if f, ok := e.(float64); ok {
					return f, nil
				}
			case "b":
				return base64.StdEncoding.DecodeString(s)
			case "l":
				l, ok := e.([]any)
				if !ok {
					break
				}
				out, err := untagAll(l)
				if out == nil {
					out = []any{}
				}
				return out, err
			case "m":
				m, ok := e.(map[string]any)
				if !ok {
					break
				}
				out := make(map[string]any, len(m))
				for k, e := range m {
					u, err := untag(e)
					if err != nil {
						return nil, err
					}
					out[k] = u
				}
				return out, nil
			}
		}
	}
	return nil, fmt.Errorf("bad tagged value %v", v)
}
