package server

import (
	"math/rand"
	"testing"

	"github.com/knhk/knhk/lsp/mapper"
)

// TestMinimalEdit checks that the one edit formatting returns turns the old
// text into the new one, for random line edits of non-ASCII text.
func TestMinimalEdit(t *testing.T) {
	s := New(Options{})
	lines := []string{"package p", "", "// é😀", "workflow W() {", "  let x = \"é😀\"", "}", "\r", "x"}
	rnd := rand.New(rand.NewSource(1))
	pick := func() string {
		out := ""
		for n := rnd.Intn(6); n > 0; n-- {
			out += lines[rnd.Intn(len(lines))] + "\n"
		}
		if rnd.Intn(3) == 0 {
			out += lines[rnd.Intn(len(lines))]
		}
		return out
	}
	for i := 0; i < 2000; i++ {
		old, new := pick(), pick()
		if old == new {
			continue
		}
		ed := s.newView().minimalEdit([]byte(old), []byte(new))
		start, end, err := mapper.New([]byte(old), mapper.UTF16).Offsets(ed.Range)
		if err != nil {
			t.Fatalf("%q -> %q: edit %v: %v", old, new, ed, err)
		}
		if got := old[:start] + ed.NewText + old[end:]; got != new {
			t.Fatalf("%q -> %q: edit %v gives %q", old, new, ed, got)
		}
	}
}
