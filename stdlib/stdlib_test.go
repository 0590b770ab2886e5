// This file implements tests of the embedded std module sources.

package stdlib

import (
	"strings"
	"testing"
)

func TestSource(t *testing.T) {
	mods := Modules()
	if len(mods) < 8 {
		t.Fatalf("modules = %v", mods)
	}
	for _, m := range mods {
		src, ok := Source(m)
		if !ok || len(src) == 0 {
			t.Errorf("%s: no source", m)
			continue
		}
		name := strings.TrimPrefix(m, Prefix)
		if !strings.Contains(string(src), "package "+name+"\n") {
			t.Errorf("%s does not declare package %s", m, name)
		}
	}
	for _, bad := range []string{"", "std/", "std/nope", "http", "std/../stdlib", "std/http/x", "std/.http", "./std/http"} {
		if _, ok := Source(bad); ok {
			t.Errorf("Source(%q) found a module", bad)
		}
	}
}
