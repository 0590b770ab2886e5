package worker

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestWriteJSONName: the fast path writes what json.Marshal writes, for
// identifiers and for names that need escaping.
func TestWriteJSONName(t *testing.T) {
	for _, name := range []string{"a", "order_id", "x1", "", "a\"b", "a\\b", "tab\there", "<&>", "é", "\u2028", "\x7f"} {
		var b bytes.Buffer
		if err := writeJSONName(&b, name); err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(name)
		if b.String() != string(want) {
			t.Errorf("%q: wrote %s, json.Marshal %s", name, b.String(), want)
		}
	}
}

func FuzzWriteJSONName(f *testing.F) {
	f.Add("order")
	f.Add("a\"<b>\u2028")
	f.Fuzz(func(t *testing.T, name string) {
		var b bytes.Buffer
		writeJSONName(&b, name)
		want, _ := json.Marshal(name)
		if b.String() != string(want) {
			t.Errorf("%q: wrote %s, json.Marshal %s", name, b.String(), want)
		}
	})
}
