// This file implements appendEvent: EncodeEvent's writer. It writes the
// JSON that encoding/json writes for a wireEvent, field by field in the
// struct's order with its omitempty rules, and the values with
// eval.AppendTagged, instead of marshalling the struct and Tag's trees
// by reflection, which was the largest part of what appending an event
// cost the engine (bench/serve). FuzzEncodeEvent checks the bytes
// against encoding/json's, so logs, hashes and receipts do not change.

package engine

import (
	"strconv"

	"github.com/knhk/knhk/runtime/eval"
)

// appendEvent appends ev's encoding to b.
func appendEvent(b []byte, ev *Event) ([]byte, error) {
	b = append(b, `{"k":`...)
	b = strconv.AppendUint(b, uint64(ev.Kind), 10)
	b = appendInt(b, `,"t":`, ev.Time)
	b = appendInt(b, `,"f":`, int64(ev.Frame))
	b = appendInt(b, `,"tr":`, int64(ev.Trans))
	b = appendInt(b, `,"i":`, int64(ev.Inv))
	if len(ev.Outs) > 0 {
		b = append(b, `,"o":[`...)
		for i, o := range ev.Outs {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, int64(o), 10)
		}
		b = append(b, ']')
	}
	b = appendTrue(b, `,"on":`, ev.Outs != nil && len(ev.Outs) == 0)
	var err error
	if b, err = appendValues(b, `,"v":`, ev.Values); err != nil {
		return b, err
	}
	if b, err = appendValues(b, `,"u":`, ev.Undo); err != nil {
		return b, err
	}
	b = appendTrue(b, `,"un":`, ev.Undo != nil && len(ev.Undo) == 0)
	b = appendInt(b, `,"a":`, int64(ev.Attempts))
	b = appendInt(b, `,"l":`, int64(ev.Limit))
	b = appendInt(b, `,"q":`, int64(ev.Quorum))
	b = appendInt(b, `,"to":`, ev.Timeout)
	b = appendInt(b, `,"d":`, ev.Due)
	b = appendInt(b, `,"at":`, int64(ev.Attempt))
	b = appendInt(b, `,"c":`, int64(ev.Choice))
	b = appendString(b, `,"n":`, ev.Name)
	b = appendString(b, `,"m":`, ev.Message)
	if lo := encodeLoc(ev.Loc); lo != nil {
		b = append(b, `,"lo":{"f":`...)
		b = strconv.AppendInt(b, int64(lo.F), 10)
		b = append(b, `,"s":`...)
		b = strconv.AppendInt(b, int64(lo.S), 10)
		b = append(b, `,"e":`...)
		b = strconv.AppendInt(b, int64(lo.E), 10)
		b = append(b, '}')
	}
	if b, err = appendValues(b, `,"fe":`, ev.Features); err != nil {
		return b, err
	}
	if ev.Reward != 0 {
		b = append(b, `,"rw":`...)
		if b, err = eval.AppendJSONFloat(b, ev.Reward); err != nil {
			return b, err
		}
	}
	b = appendTrue(b, `,"rd":`, ev.Rewarded)
	b = appendString(b, `,"fr":`, ev.From)
	return append(b, '}'), nil
}

// appendInt appends key and n unless n is 0 (omitempty).
func appendInt(b []byte, key string, n int64) []byte {
	if n == 0 {
		return b
	}
	return strconv.AppendInt(append(b, key...), n, 10)
}

// appendTrue appends key and true when set (omitempty).
func appendTrue(b []byte, key string, set bool) []byte {
	if !set {
		return b
	}
	return append(append(b, key...), "true"...)
}

// appendString appends key and s unless s is empty (omitempty).
func appendString(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return eval.AppendJSONString(append(b, key...), s)
}

// appendValues appends key and the tagged array of vs unless vs is
// empty (omitempty).
func appendValues(b []byte, key string, vs []eval.Value) ([]byte, error) {
	if len(vs) == 0 {
		return b, nil
	}
	return eval.AppendTaggedAll(append(b, key...), vs)
}
