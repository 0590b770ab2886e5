// This file tests the failures of knhk build's output paths that a
// script cannot set up: a directory this process may not write to (by
// its mode, or /proc), and a kept package whose file name is taken by a
// directory.

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBuildUnwritableDir: -o or --emit-go in a directory without write
// permission is a user error naming it, and nothing is written.
func TestBuildUnwritableDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hold.knhk"), []byte(holdProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(ro, 0o755)
	if probeWritable(ro) == nil {
		t.Skip("this process may write to a read-only directory (root)")
	}
	for _, args := range [][]string{
		{"-o", "ro/app"},
		{"--emit-go", "ro/gen"},
		{"--emit-go", "ro"},
	} {
		code, _, stderr := knhkRun(t, dir, append(append([]string{"build"}, args...), "hold.knhk")...)
		want := "knhk build: " + args[0] + " " + args[1] + ": cannot write to " + ro + ": permission denied"
		if code != exitUser || !strings.Contains(stderr, want) {
			t.Errorf("build %v: exit %d, want 1 and %q\n%s", args, code, want, stderr)
		}
	}
	if ents, _ := os.ReadDir(ro); len(ents) != 0 {
		t.Errorf("the read-only directory holds %d entries", len(ents))
	}
}

// TestBuildProcDir: Linux's /proc takes no new file even from root, so
// the check of a directory that cannot be written runs as any user.
func TestBuildProcDir(t *testing.T) {
	if fi, err := os.Stat("/proc/self"); err != nil || !fi.IsDir() {
		t.Skip("no /proc")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hold.knhk"), []byte(holdProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"-o", "/proc/app"}, {"--emit-go", "/proc/knhkgen"}} {
		code, _, stderr := knhkRun(t, dir, append(append([]string{"build"}, args...), "hold.knhk")...)
		want := "knhk build: " + args[0] + " " + args[1] + ": cannot write to /proc: "
		if code != exitUser || !strings.Contains(stderr, want) || strings.Contains(stderr, "internal error") {
			t.Errorf("build %v: exit %d, want 1 and %q\n%s", args, code, want, stderr)
		}
	}
}

// TestWriteGeneratedAllOrNothing: when one file of the kept package
// cannot be written, none is, and no temporary file is left.
func TestWriteGeneratedAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "types.go"), 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"funcs.go": []byte("package p\n"), "program.go": []byte("package p\n"), "types.go": []byte("package p\n")}
	err := writeGenerated(dir, files, "")
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "types.go")) {
		t.Fatalf("err = %v, want one naming %s", err, filepath.Join(dir, "types.go"))
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != "types.go" {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("the directory holds %v, want only the directory types.go", names)
	}
}

// TestWriteGeneratedRemovesWhatItMade: a failure while writing into a
// directory the write created leaves no directory behind.
func TestWriteGeneratedRemovesWhatItMade(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "new", "gen")
	// A name CreateTemp refuses: the write fails after the directories
	// were made.
	files := map[string][]byte{"funcs.go": []byte("package p\n"), "bad" + string(filepath.Separator) + "x.go": []byte("package p\n")}
	if err := writeGenerated(dir, files, ""); err == nil {
		t.Fatal("the write of an impossible name succeeded")
	}
	if _, err := os.Stat(filepath.Join(base, "new")); !os.IsNotExist(err) {
		t.Errorf("the directories the failed write made are left: %v", err)
	}
}
