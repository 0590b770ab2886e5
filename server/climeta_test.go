package server

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// TestCLIMetaCutShort: DIR/cases/ID.json is written in place, without a
// rename, so a crash can cut it short; the next Open writes again any
// that is missing or shorter than the start's record.
func TestCLIMetaCutShort(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	deploy(t, s)
	a := start(t, s, "Hold", `"a"`)
	b := start(t, s, "Hold", `"b"`)
	waitParked(t, s, a)
	waitParked(t, s, b)
	crashed := t.TempDir() // no index: both cases come from the meta log
	if err := os.CopyFS(crashed, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	closeSvc(t, s)
	os.Remove(filepath.Join(crashed, "server", "LOCK"))
	pa, pb := filepath.Join(crashed, "cases", a+".json"), filepath.Join(crashed, "cases", b+".json")
	want, err := os.ReadFile(pa)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(pa, 7); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(pb); err != nil {
		t.Fatal(err)
	}
	s = open(t, crashed)
	defer closeSvc(t, s)
	for id, path := range map[string]string{a: pa, b: pb} {
		got, err := os.ReadFile(path)
		var m caseMeta
		if err != nil || json.Unmarshal(got, &m) != nil || m.Case != id || m.Workflow != "Hold" {
			t.Fatalf("%s after the restart: %q %v", path, got, err)
		}
	}
	if got, _ := os.ReadFile(pa); string(got) != string(want) {
		t.Fatalf("rewritten %s:\n%s\nwant\n%s", pa, got, want)
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
