package dircopy

import (
	"os"
	"path/filepath"
	"testing"
)

// TestCopy copies a tree of two levels and a link: the files and
// directories arrive with their contents, the link does not.
func TestCopy(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "copy")
	files := map[string]string{"a": "one", "d/b": "two", "d/e/c": ""}
	for name, body := range files {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("a", filepath.Join(src, "link")); err != nil {
		t.Fatal(err)
	}
	if err := Copy(src, dst); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		b, err := os.ReadFile(filepath.Join(dst, name))
		if err != nil || string(b) != body {
			t.Errorf("%s: %q %v, want %q", name, b, err, body)
		}
	}
	if _, err := os.Lstat(filepath.Join(dst, "link")); !os.IsNotExist(err) {
		t.Errorf("the link was copied: %v", err)
	}
	if err := Copy(filepath.Join(src, "missing"), dst); err == nil {
		t.Error("copying a missing directory succeeded")
	}
}
