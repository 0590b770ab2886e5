// This file implements the tests of the 80-column layout rule.

package format

import (
	"fmt"
	"strings"
	"testing"
)

// TestWidthBoundary grows records, lists and calls one field at a time
// across column 80: a one-line form must never pass column 80, a broken
// form must be one that would have, and the round trip must hold.
func TestWidthBoundary(t *testing.T) {
	for n := 1; n <= 12; n++ {
		var fields, elems, args []string
		for i := range n {
			fields = append(fields, fmt.Sprintf("field%d: int", i))
			elems = append(elems, fmt.Sprintf("\"elem%d\"", i))
			args = append(args, fmt.Sprintf("arg%d", i))
		}
		src := "package p\n" +
			"type T = { " + strings.Join(fields, ", ") + " }\n" +
			"fn f() -> [string] = [" + strings.Join(elems, ", ") + "]\n" +
			"workflow W() {\n  let x = call(" + strings.Join(args, ", ") + ")\n  call(" + strings.Join(args, ", ") + ")\n}\n"
		out := checkRoundTrip(t, "w.knhk", []byte(src))
		for _, line := range strings.Split(string(out), "\n") {
			if len(line) > 80 {
				t.Errorf("n=%d: line of %d columns:\n%s", n, len(line), line)
			}
		}
		// The record: broken exactly when its one-line form is too long.
		oneLine := "type T = { " + strings.Join(fields, ", ") + " }"
		broken := !strings.Contains(string(out), oneLine)
		if broken != (len(oneLine) > 80) {
			t.Errorf("n=%d: record of %d columns, broken=%v:\n%s", n, len(oneLine), broken, out)
		}
		if broken && !strings.Contains(string(out), "\n  field0: int,\n") {
			t.Errorf("n=%d: broken record is not one field per line:\n%s", n, out)
		}
	}
}
