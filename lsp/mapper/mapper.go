// This file implements Mapper, the conversion between byte offsets (the
// truth everywhere else in KNHK) and LSP positions, whose character column
// counts UTF-16 code units unless the client negotiated UTF-8 or UTF-32.

// Package mapper converts between byte offsets in a document and LSP
// line/character positions in the negotiated position encoding, in the
// manner of gopls's protocol/mapper.go. It is the only place in the
// language server that knows about UTF-16.
package mapper

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/knhk/knhk/lang/source"
	"go.lsp.dev/protocol"
)

// Encoding is the unit an LSP position's character column counts.
type Encoding int

const (
	// UTF16 counts UTF-16 code units: the LSP default, and what VS Code uses.
	UTF16 Encoding = iota
	// UTF8 counts bytes.
	UTF8
	// UTF32 counts Unicode code points.
	UTF32
)

// String returns the LSP name of the encoding ("utf-16", "utf-8", "utf-32").
func (e Encoding) String() string {
	switch e {
	case UTF8:
		return "utf-8"
	case UTF32:
		return "utf-32"
	}
	return "utf-16"
}

// ErrOutOfRange reports a position or offset outside the document.
var ErrOutOfRange = errors.New("position out of range")

// Mapper maps positions in one version of one document. It uses the line
// table of a [source.File]; the content must not change while the mapper
// is in use.
type Mapper struct {
	file    *source.File
	content []byte
	enc     Encoding
}

// New returns a mapper for content in encoding enc.
func New(content []byte, enc Encoding) *Mapper {
	return ForFile(source.NewFile("", content), enc)
}

// ForFile returns a mapper over f's content that reuses f's line table,
// for a file the checker has already loaded.
func ForFile(f *source.File, enc Encoding) *Mapper {
	return &Mapper{file: f, content: f.Content, enc: enc}
}

// Encoding returns the mapper's position encoding.
func (m *Mapper) Encoding() Encoding { return m.enc }

// Content returns the mapped content.
func (m *Mapper) Content() []byte { return m.content }

// LineCount returns the number of lines; an empty document has one.
func (m *Mapper) LineCount() int { return m.file.LineCount() }

// lineEnd returns the offset of the end of line i (0-based), before its
// "\n" or "\r\n".
func (m *Mapper) lineEnd(i int) int {
	end := len(m.content)
	if i+1 < m.LineCount() {
		end = m.LineStart(i+1) - 1
		if end > m.LineStart(i) && m.content[end-1] == '\r' {
			end--
		}
	}
	return end
}

// Position converts a byte offset to an LSP position. An offset inside a
// multi-byte character is moved back to the character's start; an offset
// outside [0, len(content)] is an error.
func (m *Mapper) Position(off int) (protocol.Position, error) {
	if off < 0 || off > len(m.content) {
		return protocol.Position{}, fmt.Errorf("offset %d: %w (document has %d bytes)", off, ErrOutOfRange, len(m.content))
	}
	line := m.Line(off)
	start := m.LineStart(line)
	if end := m.lineEnd(line); off > end {
		off = end // inside a "\r\n": the end of the line
	}
	for off > start && off < len(m.content) && !utf8.RuneStart(m.content[off]) {
		off--
	}
	return protocol.Position{Line: uint32(line), Character: uint32(m.units(m.content[start:off]))}, nil
}

// units counts b in the mapper's encoding.
func (m *Mapper) units(b []byte) int {
	switch m.enc {
	case UTF8:
		return len(b)
	case UTF32:
		return utf8.RuneCount(b)
	}
	n := 0
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if r >= 0x10000 {
			n += 2 // a surrogate pair
		} else {
			n++
		}
		b = b[size:]
	}
	return n
}

// Offset converts an LSP position to a byte offset. A line past the end of
// the document is an error; a character past the end of its line means the
// end of the line (as the LSP specification says), and a character inside a
// UTF-16 surrogate pair or a UTF-8 sequence means the start of that
// character.
func (m *Mapper) Offset(p protocol.Position) (int, error) {
	line := int(p.Line)
	if line >= m.LineCount() {
		return 0, fmt.Errorf("line %d: %w (document has %d lines)", line, ErrOutOfRange, m.LineCount())
	}
	start, end := m.LineStart(line), m.lineEnd(line)
	want := int(p.Character)
	off, n := start, 0
	for off < end {
		r, size := utf8.DecodeRune(m.content[off:end])
		w := 1
		switch m.enc {
		case UTF8:
			w = size
		case UTF16:
			if r >= 0x10000 {
				w = 2
			}
		}
		if n+w > want {
			break
		}
		n += w
		off += size
	}
	return off, nil
}

// Range converts the byte range [start, end) to an LSP range.
func (m *Mapper) Range(start, end int) (protocol.Range, error) {
	if end < start {
		return protocol.Range{}, fmt.Errorf("range [%d, %d): %w (end before start)", start, end, ErrOutOfRange)
	}
	s, err := m.Position(start)
	if err != nil {
		return protocol.Range{}, err
	}
	e, err := m.Position(end)
	if err != nil {
		return protocol.Range{}, err
	}
	return protocol.Range{Start: s, End: e}, nil
}

// Offsets converts an LSP range to byte offsets [start, end).
func (m *Mapper) Offsets(r protocol.Range) (start, end int, err error) {
	if start, err = m.Offset(r.Start); err != nil {
		return 0, 0, err
	}
	if end, err = m.Offset(r.End); err != nil {
		return 0, 0, err
	}
	if end < start {
		return 0, 0, fmt.Errorf("range ends before it starts: %w", ErrOutOfRange)
	}
	return start, end, nil
}

// Len returns the length of content[start:end] in the mapper's encoding,
// for semantic token lengths.
func (m *Mapper) Len(start, end int) int { return m.units(m.content[start:end]) }

// LineStart returns the byte offset of the start of the 0-based line, or
// len(content) past the last line.
func (m *Mapper) LineStart(line int) int {
	if line < 0 {
		return 0
	}
	return int(m.file.LineStart(line + 1))
}

// Line returns the 0-based line holding the byte offset off (clamped).
func (m *Mapper) Line(off int) int {
	if off < 0 {
		off = 0
	}
	return m.file.Position(source.Pos(off)).Line - 1
}
