// This file implements the reading side of the LSP base protocol
// (Content-Length framing) so that a frame whose Content-Length is wrong
// costs one error answer, not the connection.

package server

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
)

// maxFrame bounds a declared Content-Length, as jsonrpc2's framer does. The
// body is read incrementally, so a large declaration costs nothing until
// its bytes arrive.
const maxFrame = 1 << 30

// errTruncated marks a frame whose declared length ended inside its JSON
// value: the Content-Length was too small.
var errTruncated = errors.New("the message ends before its JSON value does (is its Content-Length too small?)")

// frameReader reads frames and resynchronises after a wrong Content-Length.
//
// A Content-Length that is too small leaves the frame's JSON value
// unfinished: the frame is reported as truncated (the server answers with a
// parse error) and the rest of that message, up to the next
// "Content-Length:" header, is skipped. A Content-Length that is too large
// would have the body swallow the next frame's header, and a plain framer
// would wait for bytes that never come while the client waits for an
// answer: so the body of an object or array ends where its JSON value ends,
// and whatever the declared length still covers is read as the start of the
// next header block, where anything that is not a header is skipped.
type frameReader struct {
	r    *bufio.Reader
	buf  []byte
	logf func(string, ...any)
}

func newFrameReader(r io.Reader, logf func(string, ...any)) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, 64<<10), logf: logf}
}

// next returns the next frame's body, valid until the following call, and
// the bytes consumed. A truncated body comes with errTruncated; other
// errors end the stream (io.EOF at a clean boundary).
func (fr *frameReader) next() ([]byte, int64, error) {
	length, hn, err := fr.header()
	if err != nil {
		return nil, hn, err
	}
	body, err := fr.body(length)
	return body, hn + int64(len(body)), err
}

// header reads a header block and returns its Content-Length. Lines that
// are not header fields (the tail of a message whose Content-Length was
// too small) are skipped up to the next "Content-Length:", which may start
// in the middle of such a line.
func (fr *frameReader) header() (length int, n int64, err error) {
	length = -1
	skipped := 0
	defer func() {
		if skipped > 0 && fr.logf != nil {
			fr.logf("skipped %d bytes that were not a message header", skipped)
		}
	}()
	for {
		line, err := fr.line()
		n += int64(len(line))
		if err != nil {
			if err == io.EOF && (length >= 0 || skipped > 0) {
				err = io.ErrUnexpectedEOF
			}
			return 0, n, err
		}
		field := bytes.TrimRight(line, "\r\n")
		if len(field) == 0 {
			if length >= 0 {
				return length, n, nil
			}
			continue // blank lines between frames, or a too-large length's padding
		}
		name, value, ok := bytes.Cut(field, []byte(":"))
		switch {
		case ok && headerToken(name) && bytes.EqualFold(name, []byte("Content-Length")):
			v, err := strconv.Atoi(string(bytes.TrimSpace(value)))
			if err != nil || v <= 0 || v > maxFrame {
				skipped += len(line)
				length = -1
				continue
			}
			length = v
		case ok && headerToken(name) && length >= 0:
			// Another field of this block (Content-Type): ignored.
		default:
			// Not a header: resynchronise on a Content-Length inside it.
			if i := indexFold(field, "content-length:"); i > 0 {
				skipped += i
				line = line[i:]
				v, err := strconv.Atoi(string(bytes.TrimSpace(bytes.TrimRight(line[len("content-length:"):], "\r\n"))))
				if err == nil && v > 0 && v <= maxFrame {
					length = v
					continue
				}
			}
			skipped += len(line)
			length = -1
		}
	}
}

// line reads one line including its terminator. A line longer than the
// buffer is returned in pieces; a piece without a terminator is not a
// header, so it is skipped like any other junk.
func (fr *frameReader) line() ([]byte, error) {
	line, err := fr.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return line, nil
	}
	if err == io.EOF && len(line) > 0 {
		return line, io.ErrUnexpectedEOF
	}
	return line, err
}

// body reads a frame body of at most length bytes. A body that starts an
// object or array ends where that value ends.
func (fr *frameReader) body(length int) ([]byte, error) {
	fr.buf = fr.buf[:0]
	first, err := fr.r.Peek(1)
	if err != nil {
		return nil, unexpected(err)
	}
	if first[0] != '{' && first[0] != '[' {
		// Not a message JSON-RPC could accept anyway: read it as declared
		// and let validation answer.
		if cap(fr.buf) < length {
			fr.buf = make([]byte, 0, length)
		}
		fr.buf = fr.buf[:length]
		_, err := io.ReadFull(fr.r, fr.buf)
		return fr.buf, unexpected(err)
	}
	var sc jsonEnd
	for len(fr.buf) < length {
		want := min(length-len(fr.buf), max(fr.r.Buffered(), 1))
		chunk, err := fr.r.Peek(want)
		if len(chunk) == 0 && err != nil {
			return nil, unexpected(err)
		}
		if end := sc.scan(chunk); end >= 0 {
			fr.buf = append(fr.buf, chunk[:end]...)
			_, _ = fr.r.Discard(end)
			if len(fr.buf) < length && fr.logf != nil {
				fr.logf("message of %d bytes declared a Content-Length of %d", len(fr.buf), length)
			}
			return fr.buf, nil
		}
		fr.buf = append(fr.buf, chunk...)
		_, _ = fr.r.Discard(len(chunk))
	}
	return fr.buf, errTruncated
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// jsonEnd finds where a JSON object or array ends, across chunks. It
// tracks only nesting and strings: whether the value is valid JSON is
// decided later, on the whole body.
type jsonEnd struct {
	depth    int
	inString bool
	escaped  bool
}

// scan consumes b and returns the index just past the end of the value, or
// -1 when the value continues past b.
func (s *jsonEnd) scan(b []byte) int {
	for i, c := range b {
		switch {
		case s.inString:
			switch {
			case s.escaped:
				s.escaped = false
			case c == '\\':
				s.escaped = true
			case c == '"':
				s.inString = false
			}
		case c == '"':
			s.inString = true
		case c == '{' || c == '[':
			s.depth++
		case c == '}' || c == ']':
			s.depth--
			if s.depth <= 0 {
				return i + 1
			}
		}
	}
	return -1
}

// headerToken reports whether b is a header field name.
func headerToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !(c == '-' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// indexFold returns the index of the ASCII string lower in b, ignoring
// case, or -1.
func indexFold(b []byte, lower string) int {
	for i := 0; i+len(lower) <= len(b); i++ {
		if bytes.EqualFold(b[i:i+len(lower)], []byte(lower)) {
			return i
		}
	}
	return -1
}
