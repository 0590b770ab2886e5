// This file implements AppendTagged: the canonical encoding of a value
// written straight into a byte slice. Every event the engine logs
// carries its values this way, and building Tag's tree of maps and
// slices for encoding/json to walk by reflection was most of what
// encoding an event cost (bench/serve). The bytes are exactly those
// encoding/json writes for Tag's tree (FuzzAppendTagged checks it), so
// logs, hashes and receipts do not change.

package eval

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"

	"github.com/knhk/knhk/compiler/ir"
)

// AppendTagged appends the JSON of Tag(v) to b, as encoding/json
// marshals it. Its error is encoding/json's for a float it cannot
// encode (NaN, ±Inf).
func AppendTagged(b []byte, v Value) ([]byte, error) {
	return appendTagged(b, v, 0)
}

// AppendTaggedAll appends the JSON array of TagAll(vs, true).
func AppendTaggedAll(b []byte, vs []Value) ([]byte, error) {
	return appendTaggedAll(b, vs, 0)
}

func appendTaggedAll(b []byte, vs []Value, depth int) ([]byte, error) {
	b = append(b, '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendTagged(b, v, depth); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

func appendTagged(b []byte, v Value, depth int) ([]byte, error) {
	if depth > maxTagDepth {
		// As deep as encoding/json would go: let it say what it says.
		out, err := json.Marshal(Tag(v))
		return append(b, out...), err
	}
	switch v.k {
	case ir.KindBool:
		return strconv.AppendBool(b, v.AsBool()), nil
	case ir.KindString, ir.KindEnum:
		return AppendJSONString(b, v.s), nil
	case ir.KindInt, ir.KindI32, ir.KindU32:
		return appendTaggedInt(b, "i", v.AsInt()), nil
	case ir.KindFloat, ir.KindF32:
		b = append(b, `{"f":`...)
		b, err := AppendJSONFloat(b, v.AsFloat())
		return append(b, '}'), err
	case ir.KindDuration:
		return appendTaggedInt(b, "d", v.AsInt()), nil
	case ir.KindTime:
		return appendTaggedInt(b, "t", v.AsInt()), nil
	case ir.KindBytes:
		b = append(b, `{"b":"`...)
		b = base64.StdEncoding.AppendEncode(b, []byte(v.s)) // its alphabet needs no escape
		return append(b, `"}`...), nil
	case ir.KindList, ir.KindRecord:
		b = append(b, `{"l":`...)
		b, err := appendTaggedAll(b, v.Elems(), depth+1)
		return append(b, '}'), err
	case ir.KindMap:
		n := v.Len()
		b = append(b, `{"l":[{"l":[`...)
		var err error
		for i := range n {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendTagged(b, v.Key(i), depth+1); err != nil {
				return b, err
			}
		}
		b = append(b, `]},{"l":[`...)
		for i := range n {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendTagged(b, v.Index(i), depth+1); err != nil {
				return b, err
			}
		}
		return append(b, `]}]}`...), nil
	}
	return append(b, "null"...), nil // void, none, and what Tag writes as null
}

// appendTaggedInt appends {"tag":"n"}.
func appendTaggedInt(b []byte, tag string, n int64) []byte {
	b = append(b, `{"`...)
	b = append(b, tag...)
	b = append(b, `":"`...)
	b = strconv.AppendInt(b, n, 10)
	return append(b, `"}`...)
}

// AppendJSONString appends s as encoding/json writes a string: the
// printable ASCII that it does not escape goes as it is, anything else
// through encoding/json itself.
func AppendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			out, _ := json.Marshal(s) // a string always marshals
			return append(b, out...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// AppendJSONFloat appends f as encoding/json writes a float64: the
// shortest decimal that reads back as f, in exponent form below 1e-6
// and from 1e21 on, with a two-digit negative exponent's zero dropped.
// NaN and ±Inf are encoding/json's error.
func AppendJSONFloat(b []byte, f float64) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		_, err := json.Marshal(f)
		return b, err
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, nil
}
