package mapper

import (
	"errors"
	"testing"

	"go.lsp.dev/protocol"
)

// The content has an ASCII line, a line with é (2 bytes, 1 UTF-16 unit), a
// line with 😀 (4 bytes, a UTF-16 surrogate pair), a CRLF line and an empty
// last line.
const text = "abc\nlet é = 1\nx😀y\r\nz\n"

func pos(l, c uint32) protocol.Position { return protocol.Position{Line: l, Character: c} }

func TestPositionAndOffset(t *testing.T) {
	// offsets: line 0 "abc" 0..3, '\n' 3; line 1 starts 4: "let " 4..8, é 8..10,
	// " = 1" 10..14, '\n' 14; line 2 starts 15: x 15, 😀 16..20, y 20, '\r' 21,
	// '\n' 22; line 3 starts 23: z 23, '\n' 24; line 4 starts 25 (empty).
	tests := []struct {
		off            int
		u16, u8, u32   protocol.Position
		backFromU16Off int // Offset(u16) when it differs from off
	}{
		{off: 0, u16: pos(0, 0), u8: pos(0, 0), u32: pos(0, 0)},
		{off: 3, u16: pos(0, 3), u8: pos(0, 3), u32: pos(0, 3)},
		{off: 8, u16: pos(1, 4), u8: pos(1, 4), u32: pos(1, 4)},
		{off: 10, u16: pos(1, 5), u8: pos(1, 6), u32: pos(1, 5)},
		{off: 14, u16: pos(1, 9), u8: pos(1, 10), u32: pos(1, 9)},
		{off: 16, u16: pos(2, 1), u8: pos(2, 1), u32: pos(2, 1)},
		{off: 20, u16: pos(2, 3), u8: pos(2, 5), u32: pos(2, 2)},
		{off: 21, u16: pos(2, 4), u8: pos(2, 6), u32: pos(2, 3)},
		{off: 23, u16: pos(3, 0), u8: pos(3, 0), u32: pos(3, 0)},
		{off: 25, u16: pos(4, 0), u8: pos(4, 0), u32: pos(4, 0)},
	}
	for _, enc := range []Encoding{UTF16, UTF8, UTF32} {
		m := New([]byte(text), enc)
		for _, tt := range tests {
			want := map[Encoding]protocol.Position{UTF16: tt.u16, UTF8: tt.u8, UTF32: tt.u32}[enc]
			got, err := m.Position(tt.off)
			if err != nil || got != want {
				t.Errorf("%s: Position(%d) = %v, %v; want %v", enc, tt.off, got, err, want)
			}
			back, err := m.Offset(want)
			if err != nil || back != tt.off {
				t.Errorf("%s: Offset(%v) = %d, %v; want %d", enc, want, back, err, tt.off)
			}
		}
	}
}

func TestInsideCharacters(t *testing.T) {
	m := New([]byte(text), UTF16)
	// Offset 9 is the second byte of é: it maps to é's start.
	if p, _ := m.Position(9); p != pos(1, 4) {
		t.Errorf("Position(9) = %v, want 1:4", p)
	}
	// Offsets 17..19 are inside 😀.
	for off := 17; off < 20; off++ {
		if p, _ := m.Position(off); p != pos(2, 1) {
			t.Errorf("Position(%d) = %v, want 2:1", off, p)
		}
	}
	// UTF-16 column 2 is between the two halves of the surrogate pair: the
	// start of 😀.
	if off, _ := m.Offset(pos(2, 2)); off != 16 {
		t.Errorf("Offset(2:2) = %d, want 16", off)
	}
	// The '\r' of a CRLF belongs to the line ending.
	if p, _ := m.Position(22); p != pos(2, 4) {
		t.Errorf("Position(22) = %v, want 2:4", p)
	}
}

func TestOutOfRange(t *testing.T) {
	m := New([]byte(text), UTF16)
	if _, err := m.Position(-1); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("Position(-1) err = %v", err)
	}
	if _, err := m.Position(len(text) + 1); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("Position(len+1) err = %v", err)
	}
	if _, err := m.Offset(pos(5, 0)); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("Offset(5:0) err = %v", err)
	}
	// A character past the end of its line clamps to the line end.
	if off, err := m.Offset(pos(0, 99)); err != nil || off != 3 {
		t.Errorf("Offset(0:99) = %d, %v; want 3", off, err)
	}
	if off, err := m.Offset(pos(2, 99)); err != nil || off != 21 {
		t.Errorf("Offset(2:99) = %d, %v; want 21 (before \\r)", off, err)
	}
	if _, _, err := m.Offsets(protocol.Range{Start: pos(1, 0), End: pos(0, 0)}); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("reversed range err = %v", err)
	}
}

func TestRangeAndLen(t *testing.T) {
	m := New([]byte(text), UTF16)
	r, err := m.Range(16, 21) // "😀y"
	if err != nil || r.Start != pos(2, 1) || r.End != pos(2, 4) {
		t.Errorf("Range(16,21) = %v, %v", r, err)
	}
	if n := m.Len(16, 21); n != 3 {
		t.Errorf("Len(😀y) = %d, want 3", n)
	}
	if n := New([]byte(text), UTF8).Len(16, 21); n != 5 {
		t.Errorf("utf-8 Len(😀y) = %d, want 5", n)
	}
	if _, err := m.Range(5, 4); err == nil {
		t.Error("Range(5,4) succeeded")
	}
	if m.LineCount() != 5 || m.Line(16) != 2 || m.LineStart(3) != 23 || m.LineStart(99) != len(text) {
		t.Errorf("line table: count %d, Line(16) %d, LineStart(3) %d", m.LineCount(), m.Line(16), m.LineStart(3))
	}
}

// FuzzMapper checks, for any content, that every offset maps to a position
// that maps back to the start of the character holding the offset, in
// every encoding, and that positions are ordered like offsets.
func FuzzMapper(f *testing.F) {
	f.Add([]byte(text), 7)
	f.Add([]byte("é😀\r\n\n\xff\xfe"), 3)
	f.Fuzz(func(t *testing.T, content []byte, off int) {
		for _, enc := range []Encoding{UTF16, UTF8, UTF32} {
			m := New(content, enc)
			prev := protocol.Position{}
			for i := 0; i <= len(content); i++ {
				p, err := m.Position(i)
				if err != nil {
					t.Fatalf("%s: Position(%d): %v", enc, i, err)
				}
				back, err := m.Offset(p)
				if err != nil || back > i {
					t.Fatalf("%s: Offset(Position(%d)=%v) = %d, %v", enc, i, p, back, err)
				}
				if p.Line < prev.Line || p.Line == prev.Line && p.Character < prev.Character {
					t.Fatalf("%s: Position(%d) = %v before Position(%d) = %v", enc, i, p, i-1, prev)
				}
				prev = p
			}
			if _, err := m.Position(len(content) + 1 + off&0xff); err == nil {
				t.Fatalf("%s: Position past the end succeeded", enc)
			}
		}
	})
}
