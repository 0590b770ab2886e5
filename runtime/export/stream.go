// This file implements writing a log one event at a time.

package export

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"time"
)

// Writer writes a log trace by trace and event by event, holding nothing
// but the trace being written, so that an exporter can stream a log of
// any size. Call Begin for each trace, Event for each of its events, and
// Close once at the end. [WriteXES] and [WriteCSV] are Writers run over
// a whole [Log].
type Writer interface {
	// Begin starts the trace of case id with string attributes attrs.
	Begin(id string, attrs []Attr) error
	// Event writes one event of the current trace.
	Event(e Event) error
	// Close ends the current trace and the log and flushes.
	Close() error
}

// NewXESWriter returns a Writer of an XES document.
func NewXESWriter(w io.Writer) Writer {
	x := &xesWriter{bw: bufio.NewWriter(w)}
	x.header()
	return x
}

type xesWriter struct {
	bw      *bufio.Writer
	inTrace bool
}

func (x *xesWriter) p(format string, args ...any) { fmt.Fprintf(x.bw, format, args...) }

func (x *xesWriter) header() {
	x.p("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
	x.p("<log xes.version=\"1.0\" xes.features=\"nested-attributes\" xmlns=\"http://www.xes-standard.org/\">\n")
	x.p("  <extension name=\"Concept\" prefix=\"concept\" uri=\"http://www.xes-standard.org/concept.xesext\"/>\n")
	x.p("  <extension name=\"Lifecycle\" prefix=\"lifecycle\" uri=\"http://www.xes-standard.org/lifecycle.xesext\"/>\n")
	x.p("  <extension name=\"Time\" prefix=\"time\" uri=\"http://www.xes-standard.org/time.xesext\"/>\n")
	x.p("  <extension name=\"Organizational\" prefix=\"org\" uri=\"http://www.xes-standard.org/org.xesext\"/>\n")
	x.p("  <global scope=\"trace\">\n    <string key=\"concept:name\" value=\"UNKNOWN\"/>\n  </global>\n")
	x.p("  <global scope=\"event\">\n")
	x.p("    <string key=\"concept:name\" value=\"UNKNOWN\"/>\n")
	x.p("    <string key=\"lifecycle:transition\" value=\"complete\"/>\n")
	x.p("    <date key=\"time:timestamp\" value=\"1970-01-01T00:00:00.000Z\"/>\n")
	x.p("  </global>\n")
	x.p("  <classifier name=\"Activity\" keys=\"concept:name\"/>\n")
	x.p("  <classifier name=\"Activity and lifecycle\" keys=\"concept:name lifecycle:transition\"/>\n")
	x.p("  <string key=\"concept:name\" value=\"knhk\"/>\n")
}

func (x *xesWriter) Begin(id string, attrs []Attr) error {
	x.end()
	x.inTrace = true
	x.p("  <trace>\n")
	x.p("    <string key=\"concept:name\" value=\"%s\"/>\n", esc(id))
	for _, a := range attrs {
		x.p("    <string key=\"%s\" value=\"%s\"/>\n", esc(a.Key), esc(a.Value))
	}
	return nil
}

func (x *xesWriter) Event(e Event) error {
	if !x.inTrace {
		return fmt.Errorf("export: event outside a trace")
	}
	x.p("    <event>\n")
	x.p("      <string key=\"concept:name\" value=\"%s\"/>\n", esc(e.Activity))
	if e.Lifecycle != "" {
		x.p("      <string key=\"lifecycle:transition\" value=\"%s\"/>\n", esc(e.Lifecycle))
	}
	x.p("      <date key=\"time:timestamp\" value=\"%s\"/>\n", e.Time.UTC().Format(xesTime))
	if e.Resource != "" {
		x.p("      <string key=\"org:resource\" value=\"%s\"/>\n", esc(e.Resource))
	}
	x.p("    </event>\n")
	return nil
}

func (x *xesWriter) end() {
	if x.inTrace {
		x.p("  </trace>\n")
		x.inTrace = false
	}
}

func (x *xesWriter) Close() error {
	x.end()
	x.p("</log>\n")
	return x.bw.Flush()
}

// NewCSVWriter returns a Writer of CSV with [CSVHeader].
func NewCSVWriter(w io.Writer) Writer {
	c := &csvWriter{cw: csv.NewWriter(w)}
	c.err = c.cw.Write(CSVHeader)
	return c
}

type csvWriter struct {
	cw   *csv.Writer
	id   string
	in   bool
	err  error
	rows int
}

func (c *csvWriter) Begin(id string, _ []Attr) error {
	c.id, c.in = id, true
	return c.err
}

func (c *csvWriter) Event(e Event) error {
	if c.err != nil {
		return c.err
	}
	if !c.in {
		return fmt.Errorf("export: event outside a trace")
	}
	c.err = c.cw.Write([]string{c.id, e.Activity, e.Lifecycle, e.Time.UTC().Format(time.RFC3339Nano), e.Resource})
	if c.rows++; c.rows%1024 == 0 && c.err == nil {
		c.cw.Flush()
		c.err = c.cw.Error()
	}
	return c.err
}

func (c *csvWriter) Close() error {
	if c.err != nil {
		return c.err
	}
	c.cw.Flush()
	return c.cw.Error()
}

// writeAll runs w over every trace of l.
func writeAll(w Writer, l *Log) error {
	for i := range l.Traces {
		t := &l.Traces[i]
		if err := w.Begin(t.Case, t.Attrs); err != nil {
			return err
		}
		for _, e := range t.Events {
			if err := w.Event(e); err != nil {
				return err
			}
		}
	}
	return w.Close()
}
