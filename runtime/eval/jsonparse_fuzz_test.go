// This file checks the two readers of JSON text against each other: the
// quick path (a scan, then encoding/json) must accept exactly what the
// careful token-by-token reader accepts, with the same tree.

package eval

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{
		`{"a":[1,2,{"b":"c"}]}`, `"\ud83d\ude00"`, `"\ud800"`, `"\udc00x"`, "\"\xff\"", `"\\ud800"`,
		`"\ufffd"`, "\"\uFFFD\"", `[[[[]]]]`, `{"k\u00e9":1}`, `"\ud800\u0041"`, `1e400`, `[1,]`, `{} {}`,
		` 12 `, "\t-0.5e3\n", `true`, ` null`, `false `, `01`, `1 2`, `-`, `1e`, `tru`, `nullx`, `-0`, "\v1",
		strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		quick, qerr := parseJSON(data, "x")
		careful, cerr := parseCarefully(data, "x")
		if (qerr == nil) != (cerr == nil) {
			t.Fatalf("%q: quick %v, careful %v", data, qerr, cerr)
		}
		var de *DecodeError
		if cerr != nil && !errors.As(cerr, &de) {
			t.Fatalf("%q: careful error %T", data, cerr)
		}
		if cerr == nil && !reflect.DeepEqual(quick, careful) {
			t.Fatalf("%q: quick %#v, careful %#v", data, quick, careful)
		}
	})
}
