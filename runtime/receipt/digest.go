// This file implements the event digest of a receipt: SHA-256 over a
// fixed binary encoding of the event's fields, written straight into the
// hash. Encoding the event as the log does (JSON) and hashing that cost
// more than the durable append it accompanies; this encoding is cheap and
// depends only on the event's values, so an auditor recomputes it from
// the events the log stores (engine.DecodeEvent gives back the same
// values).

package receipt

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/eval"
	"math"
	"sync"

	"github.com/knhk/knhk/runtime/engine"
)

// EventDigest returns the digest of ev that its receipt carries.
func EventDigest(ev *engine.Event) (Digest, error) {
	w := writers.Get().(*digestWriter)
	defer func() {
		if cap(w.b) > 64<<10 {
			w.b = make([]byte, 0, 512) // a large event's buffer is not kept
		}
		writers.Put(w)
	}()
	w.b = w.b[:0]
	w.err = nil
	w.str("knhk-event/v1")
	w.i(int64(ev.Kind))
	w.i(ev.Time)
	w.i(int64(ev.Frame))
	w.i(int64(ev.Trans))
	w.i(int64(ev.Inv))
	if ev.Outs == nil {
		w.i(-1)
	} else {
		w.i(int64(len(ev.Outs)))
		for _, o := range ev.Outs {
			w.i(int64(o))
		}
	}
	w.listValues(ev.Values)
	w.values(ev.Undo)
	w.i(int64(ev.Attempts))
	w.i(int64(ev.Limit))
	w.i(int64(ev.Quorum))
	w.i(ev.Timeout)
	w.i(ev.Due)
	w.i(int64(ev.Attempt))
	w.i(int64(ev.Choice))
	w.str(ev.Name)
	w.str(ev.Message)
	w.str(ev.From)
	w.listValues(ev.Features)
	w.u(math.Float64bits(ev.Reward))
	w.bool(ev.Rewarded)
	w.i(int64(ev.Loc.File))
	w.i(int64(ev.Loc.Span.Start))
	w.i(int64(ev.Loc.Span.End))
	var d Digest
	if w.err != nil {
		return d, w.err
	}
	d = sha256.Sum256(w.b)
	return d, nil
}

// writers reuses digest writers and their buffers: the encoding is
// built in a buffer and hashed once, rather than fed to the hash a few
// bytes at a time.
var writers = sync.Pool{New: func() any { return &digestWriter{b: make([]byte, 0, 512)} }}

type digestWriter struct {
	b   []byte
	err error
}

func (w *digestWriter) u(x uint64) { w.b = binary.AppendUvarint(w.b, x) }
func (w *digestWriter) i(x int64)  { w.b = binary.AppendVarint(w.b, x) }
func (w *digestWriter) tag(t byte) { w.b = append(w.b, t) }
func (w *digestWriter) bool(b bool) {
	if b {
		w.tag(1)
	} else {
		w.tag(0)
	}
}
func (w *digestWriter) str(s string) {
	w.u(uint64(len(s)))
	w.b = append(w.b, s...)
}

// values writes a list of event values; nil and empty differ, as they do
// in the event log.
func (w *digestWriter) values(vs []eval.Value) {
	if vs == nil {
		w.i(-1)
		return
	}
	w.i(int64(len(vs)))
	for _, v := range vs {
		w.value(v)
	}
}

// listValues writes Values or Features, which the event log stores
// without telling nil from empty: both digest alike, so that a digest
// recomputed from the log matches (a workflow without parameters starts
// with empty Values and reads back nil).
func (w *digestWriter) listValues(vs []eval.Value) {
	if len(vs) == 0 {
		vs = nil
	}
	w.values(vs)
}

// value writes one value with a tag per kind of its canonical encoding
// (eval.Tag), which carries no types: a record digests as the list of
// its fields, an enum as its member's name, a map as the list of its
// keys and its values, and every integer alike, so that a digest
// recomputed from the log (whose values are untyped until applied)
// matches the one made when the event was committed.
func (w *digestWriter) value(v eval.Value) {
	switch v.Kind() {
	case ir.KindVoid, ir.KindOptional:
		w.tag('n')
	case ir.KindBool:
		w.tag('b')
		w.bool(v.AsBool())
	case ir.KindInt, ir.KindI32, ir.KindU32:
		w.tag('i')
		w.i(v.AsInt())
	case ir.KindFloat, ir.KindF32:
		w.tag('f')
		w.u(math.Float64bits(v.AsFloat()))
	case ir.KindString, ir.KindEnum:
		w.tag('s')
		w.str(v.AsString())
	case ir.KindBytes:
		w.tag('y')
		w.u(uint64(v.Len()))
		w.b = append(w.b, v.AsString()...)
	case ir.KindDuration:
		w.tag('d')
		w.i(v.AsInt())
	case ir.KindTime:
		w.tag('t')
		w.i(v.AsInt())
	case ir.KindList, ir.KindRecord:
		w.tag('l')
		w.u(uint64(v.Len()))
		for _, e := range v.Elems() {
			w.value(e)
		}
	case ir.KindMap:
		w.tag('l')
		w.u(2)
		for _, part := range []func(int) eval.Value{v.Key, v.Index} {
			w.tag('l')
			w.u(uint64(v.Len()))
			for i := range v.Len() {
				w.value(part(i))
			}
		}
	default:
		if w.err == nil {
			w.err = fmt.Errorf("receipt: cannot digest a value of kind %v", v.Kind())
		}
	}
}
