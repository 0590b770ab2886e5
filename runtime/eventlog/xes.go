// This file implements the streaming XES reader.

package eventlog

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/knhk/knhk/runtime/export"
)

// XESReader decodes an XES document one trace at a time.
type XESReader struct {
	d      *xml.Decoder
	file   string
	traces int
	events int
	inLog  bool
	done   bool
}

// NewXESReader returns a reader of the XES document r; file names it in
// errors ("" for none).
func NewXESReader(r io.Reader, file string) *XESReader {
	d := xml.NewDecoder(r)
	d.CharsetReader = charsetReader
	d.Strict = true
	return &XESReader{d: d, file: file}
}

// Next returns the next trace, or io.EOF after the last one. A document
// without any event is an error wrapping [ErrEmpty].
func (x *XESReader) Next() (*export.Trace, error) {
	if x.done {
		return nil, io.EOF
	}
	for {
		tok, err := x.d.Token()
		if err == io.EOF {
			x.done = true
			if !x.inLog {
				return nil, x.errf(nil, "not an XES log: no <log> element")
			}
			return nil, x.errf(nil, "unexpected end of document inside <log>")
		}
		if err != nil {
			return nil, x.syntax(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if !x.inLog {
				if t.Name.Local != export.XESRootElem {
					return nil, x.errf(nil, "not an XES log: root element is <%s>, want <log>", t.Name.Local)
				}
				x.inLog = true
				continue
			}
			if t.Name.Local != export.XESTraceElem {
				// Log-level attributes, extensions, globals, classifiers.
				if err := x.d.Skip(); err != nil {
					return nil, x.syntax(err)
				}
				continue
			}
			return x.trace()
		case xml.EndElement:
			// The end of <log>: nothing may follow but comments.
			x.done = true
			if x.events == 0 {
				return nil, x.errf(ErrEmpty, "%v", ErrEmpty)
			}
			return nil, io.EOF
		}
	}
}

// trace decodes the children of a <trace> whose start tag was just read.
func (x *XESReader) trace() (*export.Trace, error) {
	x.traces++
	line, col := x.d.InputPos()
	t := &export.Trace{}
	for {
		tok, err := x.d.Token()
		if err != nil {
			return nil, x.syntax(err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			if e.Name.Local == export.XESEventElem {
				ev, err := x.event()
				if err != nil {
					return nil, err
				}
				t.Events = append(t.Events, ev)
				continue
			}
			key, val := attrKV(e)
			if err := x.d.Skip(); err != nil { // nested attributes are not kept
				return nil, x.syntax(err)
			}
			if key == export.KeyName {
				t.Case = val
			} else if key != "" {
				t.Attrs = append(t.Attrs, export.Attr{Key: key, Value: val})
			}
		case xml.EndElement:
			if t.Case == "" {
				t.Case = fmt.Sprintf("trace-%d@%d:%d", x.traces, line, col)
			}
			return t, nil
		}
	}
}

// event decodes the attributes of an <event> whose start tag was just read.
func (x *XESReader) event() (export.Event, error) {
	x.events++
	var ev export.Event
	for {
		tok, err := x.d.Token()
		if err != nil {
			return ev, x.syntax(err)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			line, col := x.d.InputPos()
			key, val := attrKV(e)
			if err := x.d.Skip(); err != nil {
				return ev, x.syntax(err)
			}
			switch key {
			case export.KeyName:
				ev.Activity = val
			case export.KeyLifecycle:
				ev.Lifecycle = val
			case export.KeyResource:
				ev.Resource = val
			case export.KeyTimestamp:
				tm, err := ParseTime(val)
				if err != nil {
					return ev, &Error{File: x.file, Line: line, Col: col, Msg: fmt.Sprintf("trace %d: bad time:timestamp %q", x.traces, val), Err: err}
				}
				ev.Time = tm
			}
		case xml.EndElement:
			return ev, nil
		}
	}
}

// attrKV returns the key and value attributes of an XES attribute element.
func attrKV(e xml.StartElement) (key, val string) {
	for _, a := range e.Attr {
		switch a.Name.Local {
		case "key":
			key = a.Value
		case "value":
			val = a.Value
		}
	}
	return key, val
}

func (x *XESReader) errf(err error, format string, args ...any) error {
	line, col := x.d.InputPos()
	return &Error{File: x.file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...), Err: err}
}

// syntax turns a decoder error into an [*Error] at its line.
func (x *XESReader) syntax(err error) error {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return &Error{File: x.file, Line: se.Line, Msg: "malformed XML: " + se.Msg, Err: err}
	}
	if err == io.EOF {
		return x.errf(io.ErrUnexpectedEOF, "unexpected end of document")
	}
	return x.errf(err, "%v", err)
}

// charsetReader decodes the single-byte encodings XES files are found in
// (pm4py writes ISO-8859-1 headers); UTF-8 needs no reader.
func charsetReader(label string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "iso-8859-1", "latin1", "latin-1", "iso8859-1", "us-ascii", "ascii", "windows-1252", "cp1252":
		return &latin1{r: in}, nil
	}
	return nil, fmt.Errorf("unsupported encoding %q", label)
}

// latin1 maps each byte to the rune of the same value.
type latin1 struct {
	r   io.Reader
	buf []byte
	out []byte
}

func (l *latin1) Read(p []byte) (int, error) {
	for len(l.out) == 0 {
		if cap(l.buf) == 0 {
			l.buf = make([]byte, 4096)
		}
		n, err := l.r.Read(l.buf[:cap(l.buf)])
		for _, b := range l.buf[:n] {
			l.out = append(l.out, string(rune(b))...)
		}
		if n == 0 && err != nil {
			return 0, err
		}
	}
	n := copy(p, l.out)
	l.out = l.out[n:]
	return n, nil
}

// timeLayouts are the timestamp forms found in real logs, tried in order.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006/01/02 15:04:05.999999999",
	"02-01-2006 15:04:05",
	"02.01.2006 15:04:05",
	"2006-01-02",
}

// ParseTime parses a timestamp in any of the forms that XES and CSV logs
// use: xs:dateTime with or without zone, and the space-separated forms
// spreadsheets write. A time without zone is UTC.
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a timestamp: %q", s)
}
