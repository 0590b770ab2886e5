// This file tests the canonical encoding: a value of every kind written
// by Tag and read back by Untag and Retype is itself; the encoding is
// the plain form's (what logs have always held); Retype leaves a typed
// value as it is and names the type a wrong value is not.

package eval

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/knhk/knhk/compiler/ir"
)

func TestTagRoundTrip(t *testing.T) {
	p := lowerFile(t, "../host/testdata/compat/values.knhk")
	rec := p.Net("W").Params[0].Type
	in := `{"c":"green","d":"1h30m0s","lines":[{"price":2.5,"qty":3,"sku":"a"},{"price":-1,"qty":0,"sku":"b"}],"n":-5,"name":"x","ok":true,"opt":null,"raw":"AAE=","scores":{"a":1.5,"b":-2},"small":-7,"tags":["p","q"],"tiny":0.1,"u":4000000000,"when":"2026-01-02T03:04:05Z"}`
	v, err := FromJSON(p, rec, []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(Tag(v))
	if err != nil {
		t.Fatal(err)
	}
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		t.Fatal(err)
	}
	raw, err := Untag(x)
	if err != nil {
		t.Fatal(err)
	}
	if raw.Kind() != ir.KindList {
		t.Fatalf("an untagged record is a %v, want the list of its fields", raw.Kind())
	}
	back, err := Retype(p, raw, rec)
	if err != nil {
		t.Fatal(err)
	}
	if !Equal(back, v) || back.String() != v.String() {
		t.Errorf("round trip gives %s, want %s", back, v)
	}
	if b2, _ := json.Marshal(Tag(back)); string(b2) != string(b) {
		t.Errorf("encodes again as\n%s\nnot\n%s", b2, b)
	}
	// The encoding is the plain form's, tagged as the engine always did.
	if want := plainTagged(t, Plain(v)); string(b) != want {
		t.Errorf("canonical encoding\n%s\nis not the plain form's\n%s", b, want)
	}
	// A typed value is left as it is, not copied.
	if again, err := Retype(p, v, rec); err != nil || !identical(again, v) {
		t.Errorf("Retype of a typed value copied it (%v)", err)
	}
	// Unset slots (null) of a non-optional type are void.
	if u, err := Retype(p, None, rec); err != nil || u.Kind() != ir.KindVoid {
		t.Errorf("Retype(none, Rec) = %v, %v, want void", u, err)
	}
	// A wrong value names the type and the field.
	bad := Plain(v).([]any)
	bad[0] = int64(1) // c, an enum
	if _, err := Retype(p, Of(bad), rec); err == nil || !strings.Contains(err.Error(), "field c") {
		t.Errorf("an int for an enum: %v", err)
	}
	if _, err := Retype(p, Str("nope"), rec); err == nil || !strings.Contains(err.Error(), "Rec") {
		t.Errorf("a string for a record: %v", err)
	}
}

// plainTagged is the tagged JSON the engine wrote for a plain value
// before it carried eval values (its storelog.go tag function).
func plainTagged(t *testing.T, x any) string {
	t.Helper()
	var tag func(any) any
	tag = func(x any) any {
		switch y := x.(type) {
		case []any:
			l := make([]any, len(y))
			for i, e := range y {
				l[i] = tag(e)
			}
			return map[string]any{"l": l}
		case nil, bool, string:
			return y
		}
		return Tag(Of(x)) // scalars: one-key objects, checked below
	}
	b, err := json.Marshal(tag(x))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestTagScalars(t *testing.T) {
	for _, c := range []struct {
		v    Value
		want string
	}{
		{Int(-7), `{"i":"-7"}`}, {I32(-3), `{"i":"-3"}`}, {U32(4000000000), `{"i":"4000000000"}`},
		{Float(2.5), `{"f":2.5}`}, {F32(0.5), `{"f":0.5}`}, {Str("s"), `"s"`}, {Bool(true), `true`},
		{None, `null`}, {Void, `null`}, {Bytes([]byte{0, 1}), `{"b":"AAE="}`},
		{Duration(90), `{"d":"90"}`}, {TimeNanos(5), `{"t":"5"}`}, {Enum(2, "blue"), `"blue"`},
		{List(nil), `{"l":[]}`}, {Map(Values("b", "a"), Values(int64(2), int64(1))), `{"l":[{"l":["a","b"]},{"l":[{"i":"1"},{"i":"2"}]}]}`},
	} {
		b, err := json.Marshal(Tag(c.v))
		if err != nil || string(b) != c.want {
			t.Errorf("Tag(%v) = %s, %v, want %s", c.v, b, err, c.want)
		}
	}
	// An old engine's {"m": …} (a map[string]any) reads as a map.
	var x any
	_ = json.Unmarshal([]byte(`{"m":{"k":{"i":"2"}}}`), &x)
	m, err := Untag(x)
	if err != nil || m.Kind() != ir.KindMap || m.Len() != 1 || m.Key(0) != Str("k") || m.Index(0) != Int(2) {
		t.Errorf("Untag of an old map = %v, %v", m, err)
	}
	for _, bad := range []string{`{"i":"x"}`, `{"q":1}`, `1`, `{"l":1}`, `{"b":"!"}`, `{"i":"1","f":2}`} {
		var x any
		_ = json.Unmarshal([]byte(bad), &x)
		if _, err := Untag(x); err == nil {
			t.Errorf("Untag accepted %s", bad)
		}
	}
	if !reflect.DeepEqual(TagAll(nil, false), []any(nil)) || len(TagAll(nil, true)) != 0 || TagAll(nil, true) == nil {
		t.Error("TagAll of nil")
	}
}

// FuzzRetype checks that no tagged JSON makes Untag or Retype panic, and
// that whatever Retype accepts encodes and reads back as itself.
func FuzzRetype(f *testing.F) {
	p := lowerFile(f, "../host/testdata/compat/values.knhk")
	rec := p.Net("W").Params[0].Type
	f.Add(`{"l":["green",{"d":"1"},{"l":[]},{"i":"1"},"x",true,null,{"b":""},{"l":[{"l":[]},{"l":[]}]},{"i":"1"},{"l":[]},{"f":0.5},{"i":"1"},{"t":"1"}]}`)
	f.Add(`{"l":[{"l":[{"l":[]}]}]}`)
	f.Add(`null`)
	f.Fuzz(func(t *testing.T, s string) {
		var x any
		if json.Unmarshal([]byte(s), &x) != nil {
			return
		}
		raw, err := Untag(x)
		if err != nil {
			return
		}
		v, err := Retype(p, raw, rec)
		if err != nil {
			return
		}
		b, err := json.Marshal(Tag(v))
		if err != nil {
			return // a NaN cannot be: JSON has none
		}
		var y any
		_ = json.Unmarshal(b, &y)
		raw2, err := Untag(y)
		if err != nil {
			t.Fatalf("%s does not read back: %v", b, err)
		}
		v2, err := Retype(p, raw2, rec)
		if err != nil || !Equal(v, v2) && v.String() != v2.String() {
			t.Fatalf("%s reads back as %v, %v, want %v", b, v2, err, v)
		}
	})
}
