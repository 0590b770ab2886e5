package store

import (
	"context"
	"os"
	"testing"
)

// TestUnchangedSeesOtherWriters: a Store's commit skips re-reading HEAD
// and the mark only while nobody else touched the directory; another
// Store's commit, a dead writer's tail and a replaced HEAD each send it
// back to the full catch-up, and sequence numbers stay dense.
func TestUnchangedSeesOtherWriters(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := mustOpen(t, dir, Options{})
	defer a.Close()
	b := mustOpen(t, dir, Options{})
	defer b.Close()
	// check asks a's committer question under the lock, as commit does.
	check := func() bool {
		if err := lockEx(a.lockf); err != nil {
			t.Fatal(err)
		}
		defer unlock(a.lockf)
		_, same := a.unchanged()
		return same
	}
	append1 := func(s *Store, want Seq) {
		t.Helper()
		seq, err := s.Append(ctx, rec("c", int(want)))
		if err != nil || seq != want {
			t.Fatalf("append: seq %d, %v; want %d", seq, err, want)
		}
	}
	append1(a, 1)
	append1(a, 2)
	if !check() {
		t.Fatal("nothing changed since a's own commit, yet a would re-read HEAD")
	}
	append1(b, 3)
	if check() {
		t.Fatal("b committed, yet a would not catch up")
	}
	append1(a, 4)
	if !check() {
		t.Fatal("a caught up and committed, yet would re-read HEAD")
	}
	// A dead writer's unacknowledged tail, written where a writer writes:
	// at the acknowledged end, over any preallocated zeros.
	f, err := os.OpenFile(a.active.Name(), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	end := a.mark.size
	a.mu.Unlock()
	if _, err := f.WriteAt([]byte("torn"), end); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if check() {
		t.Fatal("a torn tail was left, yet a would not catch up")
	}
	append1(a, 5)
	// HEAD replaced (as knhk repair or a rotation does) with the same
	// contents.
	hb, err := os.ReadFile(a.headPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(a.headPath); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(a.headPath, hb, 0o644); err != nil {
		t.Fatal(err)
	}
	if check() {
		t.Fatal("HEAD was replaced, yet a would not read it")
	}
	append1(a, 6)
	append1(b, 7)
	got := collect(t, b, 1)
	if len(got) != 7 {
		t.Fatalf("%d records, want 7", len(got))
	}
}
