// This file tests the plain form: a value of every kind survives Plain
// then FromPlain, and a plain value of the wrong shape is an error that
// names the field and the type.

package eval

import (
	"reflect"
	"strings"
	"testing"
)

func TestPlainRoundTrip(t *testing.T) {
	p := lowerFile(t, "../host/testdata/compat/values.knhk")
	rec := p.Net("W").Params[0].Type
	in := `{"c":"green","d":"1h30m0s","lines":[{"price":2.5,"qty":3,"sku":"a"},{"price":-1,"qty":0,"sku":"b"}],"n":-5,"name":"x","ok":true,"opt":null,"raw":"AAE=","scores":{"a":1.5,"b":-2},"small":-7,"tags":["p","q"],"tiny":0.1,"u":4000000000,"when":"2026-01-02T03:04:05Z"}`
	v, err := FromJSON(p, rec, []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	x := Plain(v)
	back, err := FromPlain(p, x, rec)
	if err != nil {
		t.Fatal(err)
	}
	if back.String() != v.String() {
		t.Errorf("round trip gives %s, want %s", back, v)
	}
	if again := Plain(back); !reflect.DeepEqual(again, x) {
		t.Errorf("plain form changes on a second trip:\n%#v\n%#v", again, x)
	}
	// The field qty of the first line is an int; a string there is named.
	li := -1
	for i, f := range p.Type(rec).Fields {
		if f.Name == "lines" {
			li = i
		}
	}
	bad := Plain(v).([]any)
	lines := Plain(v.Index(li)).([]any)
	line := append([]any(nil), lines[0].([]any)...)
	line[1] = "three"
	lines[0] = line
	bad[li] = lines
	_, err = FromPlain(p, bad, rec)
	if err == nil || !strings.Contains(err.Error(), "field lines") || !strings.Contains(err.Error(), "field qty") || !strings.Contains(err.Error(), "string is not a int") {
		t.Errorf("a string for an int: %v", err)
	}
}
