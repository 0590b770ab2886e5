package server

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestReadStarts: the server writes no DIR/cases/ID.json; ReadStarts
// finds every start it recorded, from the index for the cases the last
// drain wrote there and from the meta log for those started since, while
// the server runs.
func TestReadStarts(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	h := deploy(t, s)
	a := start(t, s, "Hold", `"a"`)
	waitParked(t, s, a)
	closeSvc(t, s) // a is in the index now, its meta log generation gone
	s = open(t, dir)
	defer closeSvc(t, s)
	b, _, err := s.Start(t.Context(), StartRequest{Workflow: "Hold", Input: []byte(`"b"`), Request: "r-b", Key: "k-b"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "cases")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the server wrote %s: %v", filepath.Join(dir, "cases"), err)
	}
	starts, err := ReadStarts(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{a, b} {
		r, ok := starts[id]
		if !ok || r.Case != id || r.Workflow != "Hold" || r.Descriptor != h.Hash || r.Source != "hold.knhk" || r.Start == 0 {
			t.Fatalf("start of %s: %+v (ok %v); all: %+v", id, r, ok, starts)
		}
	}
	if r := starts[b]; r.Request != "r-b" || r.Key != "k-b" {
		t.Fatalf("keys of %s: %+v", b, r)
	}
	if got, err := ReadStarts(t.TempDir()); err != nil || len(got) != 0 {
		t.Fatalf("ReadStarts of a directory no server ran in: %v %v", got, err)
	}
}

// TestStartMetaFails: a start whose metadata cannot be written fails,
// and nothing of the case reaches the log, though the engine ran it to
// its first wait while the metadata was being written.
func TestStartMetaFails(t *testing.T) {
	s := open(t, t.TempDir())
	deploy(t, s)
	before := s.st.LastSeq()
	s.metas.f.Close() // every append of the meta log fails from here
	_, _, err := s.Start(t.Context(), StartRequest{Workflow: "Hold", Input: []byte(`"o"`), Request: "r-1"})
	if err == nil || CodeOf(err) != CodeInternal {
		t.Fatalf("start with a failing meta log: %v", err)
	}
	if got := s.st.LastSeq(); got != before {
		t.Fatalf("the log went from %d to %d records for a start that failed", before, got)
	}
	if list, _, _ := s.List(ListRequest{}); len(list) != 0 {
		t.Fatalf("cases after the failed start: %+v", list)
	}
	s.Close(t.Context()) // the meta log's own close fails; the rest drains
}
