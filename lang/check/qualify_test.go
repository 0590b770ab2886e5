// This file implements the tests of qualified type names: a type of an
// imported file is printed as the importing file writes it.

package check

import (
	"strings"
	"testing"
)

func TestQualifiedTypeNames(t *testing.T) {
	files := map[string]string{
		"app/main.knhk": `package main
import "./lib.knhk"
import "./lib.knhk" as geo
type Point = { name: string }
fn use(p: lib.Point) -> int = p.x
fn m(mine: Point) -> int = use(mine)
fn n(ps: [geo.Point?]) -> int = use(ps)`,
		"app/lib.knhk": `package lib
type Point = { x: int, y: int }
type Color = enum { red, green }
fn bad(p: Point) -> string = p`,
	}
	pkg, _, diags, _ := loadMem(t, files, "app/main.knhk")
	msgs := diags.Format()
	for _, want := range []string{
		"cannot use mine (type Point) as lib.Point",
		// Two imports of one file: the first name the file gives it.
		"cannot use ps (type [lib.Point?]) as lib.Point",
		// In lib's own messages its types are bare.
		"cannot use p (type Point) as string",
	} {
		if !strings.Contains(msgs, want) {
			t.Errorf("no diagnostic %q in:\n%s", want, msgs)
		}
	}
	// TypeString relative to main qualifies lib's types and enums, bare
	// relative to lib, and String never qualifies.
	var use Object
	for _, o := range pkg.Scope.Names() {
		if o.Name() == "use" {
			use = o
		}
	}
	if use == nil {
		t.Fatal("no fn use")
	}
	if got := TypeString(use.Type(), RelativeTo(pkg)); got != "(p: lib.Point) -> int" {
		t.Errorf("use relative to main = %q", got)
	}
	lib := pkg.Imports[0]
	if got := TypeString(use.Type(), RelativeTo(lib)); got != "(p: Point) -> int" {
		t.Errorf("use relative to lib = %q", got)
	}
	if got := use.Type().String(); got != "(p: Point) -> int" {
		t.Errorf("String = %q", got)
	}
	color := lib.Scope.Lookup("Color")
	if got := TypeString(Underlying(color.Type()), RelativeTo(pkg)); got != "lib.Color" {
		t.Errorf("enum relative to main = %q", got)
	}
}
