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
