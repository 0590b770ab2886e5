// This file tests the discretisation of features into state keys.

package learn

import (
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/eval"
)

func TestEncodeKeys(t *testing.T) {
	e := encoder{kinds: []featureKind{fString, fNumber, fBool, fDuration, fTime, fNumber}}
	at := time.Date(2026, 1, 2, 13, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		f    []any
		want string
	}{
		{[]any{"eu", int64(2), true, 2 * time.Second, at, -5.0}, `"eu"|(1,3]|true|(1s,3s]|13h|[-7,-3)`},
		{[]any{"a|b", int64(0), false, time.Duration(0), at, 3.0}, `"a|b"|0|false|0s|13h|(1,3]`},
		{[]any{"x", 1000.0, false, time.Hour, at, 0.5}, `"x"|(511,1023]|false|(2047s,4095s]|13h|(0,1]`},
	} {
		in, err := e.encode(eval.Values(tc.f...))
		if err != nil {
			t.Fatal(err)
		}
		if in.key != tc.want {
			t.Errorf("encode(%v) = %s, want %s", tc.f, in.key, tc.want)
		}
		if keyOf(in.toks) != in.key {
			t.Errorf("keyOf(%q) = %s, want %s", in.toks, keyOf(in.toks), in.key)
		}
	}
	b := encoder{kinds: []featureKind{fNumber}, bins: [][]float64{{10, 100}}}
	for x, want := range map[float64]string{5: "(-inf,10]", 10: "(-inf,10]", 50: "(10,100]", 500: "(100,+inf]"} {
		if in, _ := b.encode(eval.Values(x)); in.key != want {
			t.Errorf("bins [10 100]: %v in %s, want %s", x, in.key, want)
		}
	}
}
