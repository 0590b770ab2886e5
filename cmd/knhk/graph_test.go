// This file implements the tests of knhk graph that need control over
// the environment: SVG output without Graphviz on PATH.

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGraphSVGNeedsGraphviz checks that asking for SVG without the dot
// command fails with a message that says what to install, before the file
// is even read, and writes nothing.
func TestGraphSVGNeedsGraphviz(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("PATH", dir) // an empty directory: no dot
	out := filepath.Join(dir, "net.svg")
	var stdout, stderr bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr}
	code := run(e, []string{"graph", "-o", out, filepath.Join(dir, "missing.knhk")})
	if code != exitUser {
		t.Errorf("exit code %d, want %d", code, exitUser)
	}
	want := "writing SVG needs Graphviz: install it so that the dot command is on PATH, or write DOT with -o " + strings.TrimSuffix(out, ".svg") + ".dot"
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr %q lacks %q", stderr.String(), want)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s was written", out)
	}
	if stdout.Len() > 0 {
		t.Errorf("stdout: %q", stdout.String())
	}
}

// TestDotString checks the quoting of DOT labels.
func TestDotString(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:         `"plain"`,
		`say "hi"`:      `"say \"hi\""`,
		"two\nlines":    `"two\nlines"`,
		`back\slash`:    `"back\\slash"`,
		"café ✓":        `"café ✓"`,
		"cr\r\nlf only": `"cr\nlf only"`,
	} {
		if got := dotString(in); got != want {
			t.Errorf("dotString(%q) = %s, want %s", in, got, want)
		}
	}
}
