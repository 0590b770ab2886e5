// This file implements unit tests of the pieces of the CLI that scripts
// cannot reach easily: panic recovery, flag parsing, warnings, atomic
// writes and the diff.

package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/knhk/knhk/lang/source"
)

func TestGuardRecoversPanic(t *testing.T) {
	var stderr bytes.Buffer
	code := guard(&stderr, func() int { panic(errors.New("boom")) })
	if code != exitInternal {
		t.Errorf("exit code %d, want %d", code, exitInternal)
	}
	out := stderr.String()
	if !strings.HasPrefix(out, "knhk: internal error: boom\n") {
		t.Errorf("stderr does not start with the internal error line:\n%s", out)
	}
	if !strings.Contains(out, "TestGuardRecoversPanic") {
		t.Errorf("stderr has no stack naming the panicking caller:\n%s", out)
	}
}

func TestGuardPassesExitCode(t *testing.T) {
	var stderr bytes.Buffer
	for _, want := range []int{exitOK, exitUser} {
		if got := guard(&stderr, func() int { return want }); got != want {
			t.Errorf("guard returned %d, want %d", got, want)
		}
	}
	if stderr.Len() != 0 {
		t.Errorf("guard wrote %q without a panic", stderr.String())
	}
}

func TestParseInterspersed(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		pos     []string
		verbose bool
	}{
		{[]string{"a", "-v", "b"}, []string{"a", "b"}, true},
		{[]string{"-v", "a"}, []string{"a"}, true},
		{[]string{"a", "b"}, []string{"a", "b"}, false},
		{[]string{"a", "--", "-v", "b"}, []string{"a", "-v", "b"}, false},
		{[]string{"-", "-v"}, []string{"-"}, true},
		{nil, nil, false},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		v := fs.Bool("v", false, "")
		pos, err := parseInterspersed(fs, tc.args)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if !slices.Equal(pos, tc.pos) || *v != tc.verbose {
			t.Errorf("%q: got %q verbose=%v, want %q verbose=%v", tc.args, pos, *v, tc.pos, tc.verbose)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"check", "check", 0}, {"chek", "check", 1},
		{"chekc", "check", 2}, {"fmt", "", 3}, {"kitten", "sitting", 3},
	} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestPrintWarning checks the text form of warnings and of diagnostics
// without a position; no checker warning exists yet to reach it from a
// script.
func TestPrintWarning(t *testing.T) {
	f := source.NewFile("w.knhk", []byte("package w\n\nimport \"std/http\"\n"))
	ds := source.Diagnostics{
		source.Warnf(f, source.Span{Start: 18, End: 28}, source.UnusedImport, "%q imported and not used", "std/http"),
		{Severity: source.Error, Code: source.BadFile, Message: "open x.knhk: no such file or directory"},
	}
	var stderr bytes.Buffer
	printDiagnostics(&env{stderr: &stderr}, ds)
	want := "w.knhk:3:8: warning: \"std/http\" imported and not used [K305 unused-import]\n" +
		"\timport \"std/http\"\n" +
		"\t       ^^^^^^^^^^\n" +
		"knhk: open x.knhk: no such file or directory\n"
	if got := stderr.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	j := toJSON("w.knhk", ds[0])
	if j.Severity != "warning" || j.Line != 3 || j.Column != 8 || j.EndLine != 3 || j.EndColumn != 18 || j.Code != "K305" || j.CodeName != "unused-import" {
		t.Errorf("toJSON = %+v", j)
	}
}

func TestJSONRelatedAndFixes(t *testing.T) {
	f := source.NewFile("d.knhk", []byte("package d\nfn a() -> int = 1\nfn a() -> int = 2\n"))
	d := source.Errorf(f, source.Span{Start: 31, End: 32}, source.DuplicateDecl, "a redeclared")
	d.Related = []source.Related{{File: f, Span: source.Span{Start: 13, End: 14}, Message: "other declaration of a"}}
	d.Fixes = []source.Fix{{Message: "rename", Span: source.Span{Start: 31, End: 32}, NewText: "b"}}
	j := toJSON("d.knhk", d)
	if j.Line != 3 || j.Column != 4 || j.EndColumn != 5 {
		t.Errorf("position %d:%d-%d, want 3:4-5", j.Line, j.Column, j.EndColumn)
	}
	if len(j.Related) != 1 || j.Related[0].File != "d.knhk" || j.Related[0].Line != 2 || j.Related[0].Column != 4 || j.Related[0].Message != "other declaration of a" {
		t.Errorf("related = %+v", j.Related)
	}
	if len(j.Fixes) != 1 || j.Fixes[0].Line != 3 || j.Fixes[0].Column != 4 || j.Fixes[0].EndColumn != 5 || j.Fixes[0].NewText != "b" {
		t.Errorf("fixes = %+v", j.Fixes)
	}
}

func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "a.knhk")
	if err := os.WriteFile(target, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.knhk")
	if err := os.Symlink("a.knhk", link); err != nil {
		t.Skip("no symbolic links:", err)
	}
	if err := writeAtomic(link, []byte("new"), 0o640); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != "new" {
		t.Errorf("target holds %q, want %q", b, "new")
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("link is no longer a symbolic link: %v %v", fi.Mode(), err)
	}
	if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", fi.Mode().Perm())
	}
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !slices.Equal(names, []string{"a.knhk", "link.knhk"}) {
		t.Errorf("directory holds %q, want only the file and the link", names)
	}
}

func TestWriteAtomicFailureLeavesFile(t *testing.T) {
	dir := t.TempDir()
	if err := writeAtomic(filepath.Join(dir, "missing", "a.knhk"), []byte("x"), 0o644); err == nil {
		t.Fatal("no error writing into a missing directory")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left %d entries behind", len(ents))
	}
}

func TestReadSourceLimits(t *testing.T) {
	dir := t.TempDir()
	if _, err := readSource(dir); !errors.Is(err, errIsDir) {
		t.Errorf("directory: %v, want errIsDir", err)
	}
	if _, err := readSource(filepath.Join(dir, "nope")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
	_, err := readLimited(&endless{}, "zero")
	if err == nil || !strings.Contains(err.Error(), "the limit is 8388608 bytes") {
		t.Errorf("endless input: %v", err)
	}
}

// endless is an io.Reader that never ends, like /dev/zero.
type endless struct{}

func (*endless) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestDocListsCommands keeps the command list in doc.go in step with the
// commands that exist.
func TestDocListsCommands(t *testing.T) {
	b, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(strings.TrimPrefix(l, "//\t")); strings.HasPrefix(l, "//\t") && len(f) > 1 && !strings.HasPrefix(f[0], "knhk") {
			documented = append(documented, f[0])
		}
	}
	var want []string
	for _, c := range commands {
		want = append(want, c.name)
	}
	want = append(want, "help")
	if !slices.Equal(documented, want) {
		t.Errorf("doc.go lists %q, the commands are %q", documented, want)
	}
}
