package eval

import (
	"bytes"
	bin "encoding/binary"
	"encoding/json"
	"math"
	"testing"
	"time"
)

// FuzzAppendTagged: AppendTagged writes the bytes encoding/json writes
// for Tag's tree, and fails where it fails, for values of every kind
// built from the fuzzer's bytes.
func FuzzAppendTagged(f *testing.F) {
	f.Add([]byte{7, 3, 0, 1, 1, 'x', 2, 0, 0, 0, 0, 0, 0, 0, 42})
	f.Add([]byte{8, 2, 1, 2, 'a', '<', 3, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 1, 2, 'b', 0xff, 6, 3, 1, 2, 3})
	f.Add([]byte{3, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f}) // NaN
	f.Add([]byte{3, 0x8d, 0xed, 0xb5, 0xa0, 0xf7, 0xc6, 0xb0, 0x3e, 9, 4, 'r', 'e', 'd', '\n'})
	f.Add([]byte{11, 12, 13, 10, 5, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		v := (&valueReader{b: data}).value(0)
		want, wantErr := json.Marshal(Tag(v))
		got, err := AppendTagged([]byte("prefix"), v)
		if (err != nil) != (wantErr != nil) {
			t.Fatalf("%v: error %v, encoding/json's %v", v, err, wantErr)
		}
		if err == nil && !bytes.Equal(got, append([]byte("prefix"), want...)) {
			t.Fatalf("%v: wrote %s, encoding/json %s", v, got[len("prefix"):], want)
		}
	})
}

// TestAppendJSONFloat: the float forms encoding/json writes, at the
// edges of its exponent form.
func TestAppendJSONFloat(t *testing.T) {
	for _, f := range []float64{0, math.Copysign(0, -1), 1, -1.5, 1e-6, 9.99e-7, 1e-7, 1e20, 1e21, 123456789e15, math.MaxFloat64, math.SmallestNonzeroFloat64, 0.1, 1e-10, 1.5e-300} {
		want, _ := json.Marshal(f)
		got, err := AppendJSONFloat(nil, f)
		if err != nil || string(got) != string(want) {
			t.Errorf("%v: %s %v, want %s", f, got, err, want)
		}
	}
	if _, err := AppendJSONFloat(nil, math.Inf(1)); err == nil {
		t.Error("+Inf encoded")
	}
}

// valueReader builds a value from fuzz bytes: a kind byte, then what
// that kind needs.
type valueReader struct{ b []byte }

func (r *valueReader) byte() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *valueReader) u64() uint64 {
	var x [8]byte
	n := copy(x[:], r.b)
	r.b = r.b[n:]
	return bin.LittleEndian.Uint64(x[:])
}

func (r *valueReader) str() string {
	n := min(int(r.byte()), len(r.b))
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *valueReader) value(depth int) Value {
	if len(r.b) == 0 {
		return None
	}
	switch k := r.byte() % 14; {
	case k == 0:
		return Bool(r.byte()&1 == 1)
	case k == 1:
		return Str(r.str())
	case k == 2:
		return Int(int64(r.u64()))
	case k == 3:
		return Float(math.Float64frombits(r.u64()))
	case k == 4:
		return Duration(time.Duration(r.u64()))
	case k == 5:
		return TimeNanos(int64(r.u64()))
	case k == 6:
		return Bytes([]byte(r.str()))
	case k == 7 && depth < 8, k == 10 && depth < 8:
		elems := make([]Value, int(r.byte()%5))
		for i := range elems {
			elems[i] = r.value(depth + 1)
		}
		if k == 10 {
			return Record(nil, elems)
		}
		return List(elems)
	case k == 8 && depth < 8:
		n := int(r.byte() % 4)
		keys, vals := make([]Value, n), make([]Value, n)
		for i := range n {
			keys[i], vals[i] = r.value(depth+1), r.value(depth+1)
		}
		return Map(keys, vals)
	case k == 9:
		return Enum(int(r.byte()), r.str())
	case k == 11:
		return I32(int32(r.u64()))
	case k == 12:
		return U32(uint32(r.u64()))
	case k == 13:
		return F32(math.Float32frombits(uint32(r.u64())))
	}
	return None
}
