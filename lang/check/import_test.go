// This file implements the import tests: relative paths, aliases, cycles,
// missing files and the std modules.

package check

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/stdlib"
)

// memFS is a Config.ReadFile over a map, counting reads.
type memFS struct {
	files map[string]string
	reads map[string]int
}

func (m *memFS) read(name string) ([]byte, error) {
	name = filepath.ToSlash(filepath.Clean(name))
	if m.reads == nil {
		m.reads = map[string]int{}
	}
	m.reads[name]++
	if s, ok := m.files[name]; ok {
		return []byte(s), nil
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}

func loadMem(t *testing.T, files map[string]string, main string) (*Package, *Info, source.Diagnostics, *memFS) {
	t.Helper()
	m := &memFS{files: files}
	pkg, info, diags := Load(main, &Config{ReadFile: m.read})
	return pkg, info, diags, m
}

func TestImportRelative(t *testing.T) {
	pkg, info, diags, m := loadMem(t, map[string]string{
		"app/main.knhk": `package main
import "./lib/a.knhk"
import "./lib/b.knhk" as bee
workflow W() -> int { return a.one() + bee.two() }`,
		"app/lib/a.knhk": `package a
import "./shared.knhk"
fn one() -> int = shared.base()`,
		"app/lib/b.knhk": `package b
import "../lib/shared.knhk" as s
fn two() -> int = s.base() + 1`,
		"app/lib/shared.knhk": `package shared
fn base() -> int = 1`,
	}, "app/main.knhk")
	if len(diags) != 0 {
		t.Fatalf("unexpected diagnostics:\n%s", diags.Format())
	}
	if got := m.reads["app/lib/shared.knhk"]; got != 1 {
		t.Errorf("shared.knhk read %d times, want once", got)
	}
	if len(pkg.Imports) != 2 || pkg.Imports[0].Name != "a" || pkg.Imports[1].Name != "b" {
		t.Fatalf("imports = %+v", pkg.Imports)
	}
	// The diamond: both importers see the same package.
	if pkg.Imports[0].Imports[0] != pkg.Imports[1].Imports[0] {
		t.Error("shared.knhk was checked twice")
	}
	// a.one resolves to the fn declared in a.knhk, with its position.
	one := pkg.Imports[0].Scope.Lookup("one")
	if one == nil || one.Kind() != ObjFunc || one.File().Name != "app/lib/a.knhk" {
		t.Fatalf("one = %v", one)
	}
	found := false
	for id, o := range info.Uses {
		if id.Name == "one" && o == one {
			found = true
		}
	}
	if !found {
		t.Error("the use of a.one is not recorded in Info.Uses")
	}
}

func TestImportCycle(t *testing.T) {
	_, _, diags, _ := loadMem(t, map[string]string{
		"a.knhk": "package a\nimport \"./b.knhk\"\nfn f() -> int = b.g()",
		"b.knhk": "package b\nimport \"./c.knhk\"\nfn g() -> int = c.h()",
		"c.knhk": "package c\nimport \"./a.knhk\"\nfn h() -> int = 1\nfn k() -> int = a.f()",
	}, "a.knhk")
	if len(diags) != 1 {
		t.Fatalf("want exactly one diagnostic, got:\n%s", diags.Format())
	}
	d := diags[0]
	if d.Code != source.ImportCycle || d.File.Name != "c.knhk" {
		t.Fatalf("got %s [%s]", d.Error(), d.Code)
	}
	if want := "a.knhk -> b.knhk -> c.knhk -> a.knhk"; !strings.Contains(d.Message, want) {
		t.Errorf("message %q does not show the cycle %q", d.Message, want)
	}
	if got := string(d.File.Content[d.Span.Start:d.Span.End]); got != `"./a.knhk"` {
		t.Errorf("span covers %q, want the import path", got)
	}
}

func TestImportMissing(t *testing.T) {
	src := "package a\nimport \"./nope.knhk\"\nworkflow W() { nope.x() }"
	_, _, diags, _ := loadMem(t, map[string]string{"a.knhk": src}, "a.knhk")
	if len(diags) != 1 || diags[0].Code != source.ImportNotFound {
		t.Fatalf("want one import-not-found, got:\n%s", diags.Format())
	}
	d := diags[0]
	if got := src[d.Span.Start:d.Span.End]; got != `"./nope.knhk"` {
		t.Errorf("span covers %q, want the import path", got)
	}
}

func TestImportParseErrorsReported(t *testing.T) {
	_, _, diags, _ := loadMem(t, map[string]string{
		"a.knhk": "package a\nimport \"./b.knhk\"\nfn f() -> int = b.g()",
		"b.knhk": "package b\nfn g() -> int = \nfn h() -> int = 1 + \"x\"",
	}, "a.knhk")
	var files []string
	for _, d := range diags {
		files = append(files, d.File.Name+":"+d.Code.Name())
	}
	got := strings.Join(files, " ")
	if !strings.Contains(got, "b.knhk:syntax") || !strings.Contains(got, "b.knhk:bad-operand") {
		t.Errorf("diagnostics of the imported file are missing: %s", got)
	}
}

// TestStdModules checks that every std module is clean on its own, and
// that importing each one and using it is clean.
func TestStdModules(t *testing.T) {
	mods := stdlib.Modules()
	want := []string{"std/crypto", "std/http", "std/json", "std/kv", "std/log", "std/math", "std/mining", "std/strings", "std/time"}
	if strings.Join(mods, " ") != strings.Join(want, " ") {
		t.Errorf("modules = %v, want %v", mods, want)
	}
	for _, path := range mods {
		src, ok := stdlib.Source(path)
		if !ok {
			t.Fatalf("no source for %s", path)
		}
		pkg, _, diags := CheckSource(path+".knhk", src, nil)
		if len(diags) != 0 {
			t.Errorf("%s:\n%s", path, diags.Format())
			continue
		}
		name := path[len("std/"):]
		if pkg.Name != name {
			t.Errorf("%s declares package %s, want %s", path, pkg.Name, name)
		}
		if pkg.Scope.Len() == 0 {
			t.Errorf("%s declares nothing", path)
		}
	}
	_, _, diags := CheckSource("m.knhk", []byte(`package m
import "std/time"
import "std/http"
import "std/log"
import "std/kv"
import "std/math"
workflow W(url: string) -> float {
  time.sleep(time.seconds(5))
  let body = http.get(url) retry 5
  log.info(body)
  let cached = kv.get(url)
  kv.put(url, cached ?? body)
  let t: time = time.now()
  log.info(string(t))
  return math.clamp(log(2.0), 0.0, math.pi())
}`), nil)
	if len(diags) != 0 {
		t.Errorf("using std modules:\n%s", diags.Format())
	}
	_, _, diags = CheckSource("m.knhk", []byte("package m\nimport \"std/http\"\nworkflow W() { http.gett(\"x\") }"), nil)
	if len(diags) != 1 || diags[0].Code != source.UndefinedName || len(diags[0].Fixes) != 1 || diags[0].Fixes[0].NewText != "get" {
		t.Errorf("misspelled std member: %s", diags.Format())
	}
}
