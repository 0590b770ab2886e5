// This file tests how the case commands treat the data directory: read
// commands never write and work on a read-only copy, one unreadable case
// does not hide the others, and knhk run names a case only once its
// start is durable.

package main

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/knhk/knhk/internal/dircopy"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/store"
)

// treeHash hashes every name, mode and byte under dir.
func treeHash(t *testing.T, dir string) string {
	t.Helper()
	sum, err := hashTree(dir)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// hashTree hashes every name, mode and byte under dir, for the tests
// and scripts that check a command left a data directory unchanged.
func hashTree(dir string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		fmt.Fprintf(h, "%s %v %d\n", rel, info.Mode(), info.Size())
		if d.Type().IsRegular() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			h.Write(b)
		}
		return nil
	})
	return fmt.Sprintf("%x", h.Sum(nil)), err
}

// copyTree copies the regular files and directories under src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	if err := dircopy.Copy(src, dst); err != nil {
		t.Fatal(err)
	}
}

// appendToLastSegment appends n bytes of garbage to the newest segment:
// what a writer that died in the middle of a commit leaves behind.
func appendToLastSegment(t *testing.T, data string, n int) {
	t.Helper()
	segs, err := filepath.Glob(filepath.Join(data, strings.Repeat("[0-9]", 20)+".log"))
	if err != nil || len(segs) == 0 {
		t.Fatalf("no segment in %s: %v", data, err)
	}
	f, err := os.OpenFile(segs[len(segs)-1], os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write([]byte(strings.Repeat("x", n))); err != nil {
		t.Fatal(err)
	}
}

// TestReadCommandsOnAReadOnlyCopy runs every read command on a copy of a
// data directory whose files and directories are not writable and which
// holds an unfinished commit's bytes; the read commands used to create
// the lock file and truncate those bytes. (Run as root, the permissions
// stop nothing, and the unchanged hash is what the test checks.)
func TestReadCommandsOnAReadOnlyCopy(t *testing.T) {
	f := newFixture(t, "48h")
	id := f.start(`"o-1"`)
	ro := filepath.Join(f.dir, "ro")
	copyTree(t, f.data, ro)
	appendToLastSegment(t, ro, 29)
	// LOCK belongs to writers; a read-only copy need not have one.
	os.Remove(filepath.Join(ro, "LOCK"))
	filepath.WalkDir(ro, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			os.Chmod(path, 0o444)
		}
		return nil
	})
	filepath.WalkDir(ro, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(path, 0o555)
		}
		return nil
	})
	t.Cleanup(func() {
		filepath.WalkDir(ro, func(path string, d fs.DirEntry, err error) error {
			os.Chmod(path, 0o755)
			return nil
		})
	})
	before := treeHash(t, ro)
	for _, args := range [][]string{
		{"cases"}, {"cases", "--json"}, {"history", id}, {"history", "--json", id},
		{"query", id}, {"export", "--csv"}, {"export", "--xes", id}, {"fsck"},
	} {
		args = append([]string{args[0], "--data", ro}, args[1:]...)
		if code, _, stderr := f.knhk(args...); code != exitOK {
			t.Errorf("%s on a read-only copy: exit %d: %s", strings.Join(args, " "), code, stderr)
		}
		if treeHash(t, ro) != before {
			t.Fatalf("%s modified the data directory", strings.Join(args, " "))
		}
	}
}

// TestUnreadableCaseDoesNotHideOthers gives one case a record that does
// not decode (as a value nested deeper than the reader accepts did):
// cases, export and history still show every other case, and name the
// bad one with its record.
func TestUnreadableCaseDoesNotHideOthers(t *testing.T) {
	f := newFixture(t, "48h")
	bad := f.start(`"o-1"`)
	good := f.start(`"o-2"`)
	st, err := store.Open(f.data, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	seq, err := st.Append(context.Background(), store.Record{CaseID: bad, Kind: "signal", Payload: []byte(`{"k":`)})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	badRecord := fmt.Sprintf("record %d", seq)

	code, out, stderr := f.knhk("cases", "--data", f.data)
	if code != exitUser {
		t.Errorf("cases: exit %d, want 1", code)
	}
	if !regexp.MustCompile(`(?m)^`+good+` +waiting `).MatchString(out) || !regexp.MustCompile(`(?m)^`+bad+` +unreadable `).MatchString(out) {
		t.Errorf("cases lists:\n%s", out)
	}
	if !strings.Contains(stderr, "case "+bad+" is unreadable: "+badRecord) {
		t.Errorf("cases stderr %q does not name %s and %s", stderr, bad, badRecord)
	}

	code, out, stderr = f.knhk("export", "--data", f.data, "--csv")
	if code != exitUser || !strings.Contains(stderr, bad) || !strings.Contains(stderr, badRecord) {
		t.Errorf("export: exit %d, stderr %q", code, stderr)
	}
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range rows[1:] {
		seen[r[0]] = true
	}
	if !seen[good] {
		t.Errorf("export left out the readable case %s:\n%s", good, out)
	}

	if code, _, stderr := f.knhk("history", "--data", f.data, good); code != exitOK {
		t.Errorf("history of the readable case: %s", stderr)
	}
	if code, _, stderr := f.knhk("query", "--data", f.data, good); code != exitOK {
		t.Errorf("query of the readable case: %s", stderr)
	}
	if code, _, stderr := f.knhk("history", "--data", f.data, bad); code != exitUser || !strings.Contains(stderr, badRecord) {
		t.Errorf("history of the unreadable case: exit %d, %q", code, stderr)
	}
}

// TestCaseIDAfterDurableStart: knhk run's log announces the case only
// after an append succeeded, and once.
func TestCaseIDAfterDurableStart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	l := &announceLog{StoreLog: engine.StoreLog{Store: st}, announce: func() { n++ }}
	st.Close()
	if err := l.Append(ctx, "c-1", &engine.Event{Kind: engine.EvStart}); err == nil {
		t.Fatal("append to a closed store succeeded")
	}
	if n != 0 {
		t.Fatal("the case was announced although its start was not written")
	}
	st, err = store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	l = &announceLog{StoreLog: engine.StoreLog{Store: st}, announce: func() { n++ }}
	for range 3 {
		if err := l.Append(ctx, "c-1", &engine.Event{Kind: engine.EvStart}); err != nil {
			t.Fatal(err)
		}
	}
	if n != 1 {
		t.Fatalf("announced %d times, want once", n)
	}
}
