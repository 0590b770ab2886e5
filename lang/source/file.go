// This file implements source files and positions.

package source

import (
	"sort"
	"unicode/utf8"
)

// Pos is a byte offset into a [File]'s content. NoPos (-1) means unknown.
type Pos int

// NoPos is the zero value for an unknown position.
const NoPos Pos = -1

// IsValid reports whether p is a known position.
func (p Pos) IsValid() bool { return p >= 0 }

// Span is the half-open byte range [Start, End) of a construct in one file.
type Span struct {
	Start, End Pos
}

// Spanned is implemented by every syntax node.
type Spanned interface {
	Span() Span
}

// Contains reports whether the offset p lies within s (end inclusive, so a
// cursor just after a name still counts as on it).
func (s Span) Contains(p Pos) bool { return s.Start <= p && p <= s.End }

// File is one source file: its name, its content and a line table.
type File struct {
	Name    string
	Content []byte
	lines   []int // offset of the first byte of each line
}

// NewFile returns a File for name with the given content.
func NewFile(name string, content []byte) *File {
	f := &File{Name: name, Content: content}
	f.lines = make([]int, 1, len(content)/32+1)
	for i, b := range content {
		if b == '\n' {
			f.lines = append(f.lines, i+1)
		}
	}
	return f
}

// Position is a human-facing location: 1-based line and column, where the
// column counts bytes (like go/token).
type Position struct {
	Filename string
	Offset   int
	Line     int
	Column   int
}

// Position converts an offset into a line and column. Offsets beyond the
// end of the file are clamped to it.
func (f *File) Position(p Pos) Position {
	off := int(p)
	if off < 0 {
		off = 0
	}
	if off > len(f.Content) {
		off = len(f.Content)
	}
	i := sort.Search(len(f.lines), func(i int) bool { return f.lines[i] > off }) - 1
	return Position{Filename: f.Name, Offset: off, Line: i + 1, Column: off - f.lines[i] + 1}
}

// LineCount returns the number of lines in the file.
func (f *File) LineCount() int { return len(f.lines) }

// LineStart returns the offset of the first byte of the 1-based line n.
func (f *File) LineStart(n int) Pos {
	if n < 1 {
		n = 1
	}
	if n > len(f.lines) {
		return Pos(len(f.Content))
	}
	return Pos(f.lines[n-1])
}

// Line returns the text of 1-based line n without its newline.
func (f *File) Line(n int) string {
	if n < 1 || n > len(f.lines) {
		return ""
	}
	start := f.lines[n-1]
	end := len(f.Content)
	if n < len(f.lines) {
		end = f.lines[n] - 1
	}
	if end > start && f.Content[end-1] == '\r' {
		end--
	}
	return string(f.Content[start:end])
}

// RuneColumn returns the 1-based column of p counted in runes rather than
// bytes, for editors and caret lines.
func (f *File) RuneColumn(p Pos) int {
	pos := f.Position(p)
	start := f.lines[pos.Line-1]
	return utf8.RuneCount(f.Content[start:pos.Offset]) + 1
}
