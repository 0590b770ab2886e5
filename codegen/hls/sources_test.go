// This file implements the test helpers shared by the kernel and net
// tests: finding every program with kernels in examples/ and testdata/,
// building it as knhk check does, and compiling C++ with g++.

package hls

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
)

// root is the module root.
func root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// kernelSources lists, relative to the module root, every .knhk file and
// .txtar archive in examples/ and in a testdata directory that declares
// a kernel.
func kernelSources(t *testing.T) []string {
	t.Helper()
	var out []string
	r := root()
	err := filepath.WalkDir(r, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(r, path)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && rel != "." {
				return filepath.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(path); ext != ".knhk" && ext != ".txtar" {
			return nil
		}
		if !strings.HasPrefix(rel, "examples"+string(filepath.Separator)) && !strings.Contains(rel, "testdata"+string(filepath.Separator)) {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.HasPrefix(b, []byte("kernel ")) || bytes.Contains(b, []byte("\nkernel ")) {
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// build checks, lowers and gates the program at path (relative to the
// module root; a .txtar archive's in.knhk) through compiler.Build, the
// path of knhk check and knhk run. ok is false when the program has
// errors (the checker's own error tests).
func build(t *testing.T, path string) (p *ir.Program, ok bool) {
	t.Helper()
	full := filepath.Join(root(), path)
	var cfg *check.Config
	start := full
	if filepath.Ext(full) == ".txtar" {
		ar, err := txtar.ParseFile(full)
		if err != nil {
			t.Fatal(err)
		}
		cfg = &check.Config{ReadFile: func(name string) ([]byte, error) {
			for _, f := range ar.Files {
				if f.Name == filepath.Base(name) || f.Name == name {
					return f.Data, nil
				}
			}
			return nil, os.ErrNotExist
		}}
		start = "in.knhk"
	}
	pkg, info, diags := check.Load(start, cfg)
	if diags.HasErrors() {
		return nil, false
	}
	prog, ds := compiler.Build(pkg, info)
	if ds.HasErrors() || prog == nil {
		return nil, false
	}
	return prog, true
}

// gxx returns the path of g++, skipping the test only where it is truly
// absent outside CI: .ci/test.sh installs g++ and sets KNHK_REQUIRE_E2E,
// under which a missing g++ fails the test.
func gxx(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("g++")
	if err != nil {
		if os.Getenv("CI") != "" || os.Getenv("KNHK_REQUIRE_E2E") != "" {
			t.Fatal("g++ is not installed; .ci/test.sh installs it")
		}
		t.Skip("no g++ on the PATH")
	}
	return p
}

// writeFiles writes files into dir.
func writeFiles(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// compileCpp compiles the sources in dir into dir/name with the flags
// the generated code must pass: g++ -std=c++17 -Wall -Werror, at -O2,
// where g++ also checks for uses of uninitialized values; with the
// undefined-behaviour and address sanitizers, so that a signed overflow,
// an out-of-range conversion or shift, or a read outside an array in the
// C-simulation stops the testbench instead of passing unnoticed.
func compileCpp(t *testing.T, dir, name string, srcs ...string) string {
	t.Helper()
	bin := filepath.Join(dir, name)
	args := append([]string{"-std=c++17", "-Wall", "-Werror", "-O2", "-fsanitize=undefined,address", "-fno-sanitize-recover=all", "-o", bin}, srcs...)
	cmd := exec.Command(gxx(t), args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("g++ %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bin
}

// stderrOf is the standard error of a command that failed, for messages
// (a sanitizer's report).
func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return "\n" + string(ee.Stderr)
	}
	return ""
}
