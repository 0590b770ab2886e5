package source

import (
	"errors"
	"strings"
	"testing"
)

func TestPosition(t *testing.T) {
	f := NewFile("a.knhk", []byte("ab\ncdé\n\nx"))
	cases := []struct {
		off       Pos
		line, col int
	}{{0, 1, 1}, {2, 1, 3}, {3, 2, 1}, {5, 2, 3}, {8, 3, 1}, {9, 4, 1}, {10, 4, 2}, {99, 4, 2}}
	for _, c := range cases {
		p := f.Position(c.off)
		if p.Line != c.line || p.Column != c.col {
			t.Errorf("Position(%d) = %d:%d, want %d:%d", c.off, p.Line, p.Column, c.line, c.col)
		}
	}
	if got := f.Line(2); got != "cdé" {
		t.Errorf("Line(2) = %q", got)
	}
	if got := f.RuneColumn(7); got != 4 { // after "cdé"
		t.Errorf("RuneColumn = %d, want 4", got)
	}
	if f.LineCount() != 4 {
		t.Errorf("LineCount = %d", f.LineCount())
	}
}

func TestDiagnosticsError(t *testing.T) {
	f := NewFile("a.knhk", []byte("let x = y\nlet z = w\n"))
	var ds Diagnostics
	if ds.Err() != nil || ds.HasErrors() {
		t.Fatal("empty list must have no error")
	}
	ds = append(ds, Warnf(f, Span{0, 3}, UnusedVariable, "unused"))
	if ds.Err() != nil {
		t.Fatal("warnings alone are not an error")
	}
	ds = append(ds, Errorf(f, Span{18, 19}, UndefinedName, "undefined: w"), Errorf(f, Span{8, 9}, UndefinedName, "undefined: y"))
	ds.Sort()
	if ds[1].Message != "undefined: y" {
		t.Errorf("sort order wrong: %v", ds)
	}
	err := ds.Err()
	var list Diagnostics
	if !errors.As(err, &list) {
		t.Fatal("Err must be a Diagnostics")
	}
	if got, want := err.Error(), "a.knhk:1:9: undefined: y (and 1 more errors)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestPrintCaretCoversSpan(t *testing.T) {
	f := NewFile("a.knhk", []byte("\tlet amount = totl(o)\n"))
	d := Errorf(f, Span{14, 18}, UndefinedName, "undefined: totl")
	d.Fixes = []Fix{{Message: "did you mean `total`?", Span: Span{14, 18}, NewText: "total"}}
	var sb strings.Builder
	d.Print(&sb)
	want := "a.knhk:1:15: undefined: totl [K300 undefined]\n\t\tlet amount = totl(o)\n\t\t             ^^^^\n\thelp: did you mean `total`?\n"
	if sb.String() != want {
		t.Errorf("got\n%s\nwant\n%s", sb.String(), want)
	}
}

func TestPrintLongLineIsWindowed(t *testing.T) {
	line := strings.Repeat("a", 5000) + "BAD" + strings.Repeat("b", 5000)
	f := NewFile("big.knhk", []byte(line))
	d := Errorf(f, Span{5000, 5003}, BadToken, "bad")
	out := Diagnostics{d}.Format()
	for _, l := range strings.Split(out, "\n") {
		if len(l) > maxCaretLine+8 {
			t.Fatalf("line of %d bytes printed", len(l))
		}
	}
	if !strings.Contains(out, "BAD") || !strings.Contains(out, "^^^") {
		t.Errorf("window lost the span:\n%s", out)
	}
}

func TestCodesHaveNames(t *testing.T) {
	for c, n := range codeNames {
		if n == "" || !strings.Contains(c.String(), n) {
			t.Errorf("code %d has bad name %q", c, n)
		}
	}
	if len(codeNames) < 25 {
		t.Errorf("only %d codes", len(codeNames))
	}
}
