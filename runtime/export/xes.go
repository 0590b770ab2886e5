// This file implements XES (IEEE 1849-2016) writing and reading.

package export

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"time"
)

// xesTime is the timestamp layout: xs:dateTime with milliseconds, which
// every XES tool parses.
const xesTime = "2006-01-02T15:04:05.000Z07:00"

// WriteXES writes l as an XES document with the Concept, Lifecycle, Time
// and Organizational extensions declared and global defaults for the
// attributes every event carries.
func WriteXES(w io.Writer, l *Log) error {
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	p("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
	p("<log xes.version=\"1.0\" xes.features=\"nested-attributes\" xmlns=\"http://www.xes-standard.org/\">\n")
	p("  <extension name=\"Concept\" prefix=\"concept\" uri=\"http://www.xes-standard.org/concept.xesext\"/>\n")
	p("  <extension name=\"Lifecycle\" prefix=\"lifecycle\" uri=\"http://www.xes-standard.org/lifecycle.xesext\"/>\n")
	p("  <extension name=\"Time\" prefix=\"time\" uri=\"http://www.xes-standard.org/time.xesext\"/>\n")
	p("  <extension name=\"Organizational\" prefix=\"org\" uri=\"http://www.xes-standard.org/org.xesext\"/>\n")
	p("  <global scope=\"trace\">\n    <string key=\"concept:name\" value=\"UNKNOWN\"/>\n  </global>\n")
	p("  <global scope=\"event\">\n")
	p("    <string key=\"concept:name\" value=\"UNKNOWN\"/>\n")
	p("    <string key=\"lifecycle:transition\" value=\"complete\"/>\n")
	p("    <date key=\"time:timestamp\" value=\"1970-01-01T00:00:00.000Z\"/>\n")
	p("  </global>\n")
	p("  <classifier name=\"Activity\" keys=\"concept:name\"/>\n")
	p("  <classifier name=\"Activity and lifecycle\" keys=\"concept:name lifecycle:transition\"/>\n")
	p("  <string key=\"concept:name\" value=\"knhk\"/>\n")
	for i := range l.Traces {
		t := &l.Traces[i]
		p("  <trace>\n")
		p("    <string key=\"concept:name\" value=\"%s\"/>\n", esc(t.Case))
		for _, a := range t.Attrs {
			p("    <string key=\"%s\" value=\"%s\"/>\n", esc(a.Key), esc(a.Value))
		}
		for _, e := range t.Events {
			p("    <event>\n")
			p("      <string key=\"concept:name\" value=\"%s\"/>\n", esc(e.Activity))
			if e.Lifecycle != "" {
				p("      <string key=\"lifecycle:transition\" value=\"%s\"/>\n", esc(e.Lifecycle))
			}
			p("      <date key=\"time:timestamp\" value=\"%s\"/>\n", e.Time.UTC().Format(xesTime))
			if e.Resource != "" {
				p("      <string key=\"org:resource\" value=\"%s\"/>\n", esc(e.Resource))
			}
			p("    </event>\n")
		}
		p("  </trace>\n")
	}
	p("</log>\n")
	return bw.Flush()
}

// esc escapes s for an XML attribute value.
func esc(s string) string {
	var b xmlBuf
	xml.EscapeText(&b, []byte(s)) //nolint:errcheck // xmlBuf never fails
	return string(b)
}

type xmlBuf []byte

func (b *xmlBuf) Write(p []byte) (int, error) { *b = append(*b, p...); return len(p), nil }

// xesAttr is any typed XES attribute (string, date, int, float, boolean,
// id, list, container); nested attributes are not decoded.
type xesAttr struct {
	XMLName xml.Name
	Key     string `xml:"key,attr"`
	Value   string `xml:"value,attr"`
}

type xesEvent struct {
	Attrs []xesAttr `xml:",any"`
}

type xesTrace struct {
	Events []xesEvent `xml:"event"`
	Attrs  []xesAttr  `xml:",any"`
}

type xesLog struct {
	XMLName xml.Name   `xml:"log"`
	Traces  []xesTrace `xml:"trace"`
}

// ReadXES reads an XES document. Trace attributes other than
// concept:name become Attrs (their values as written); event attributes
// other than the four standard ones are dropped. A timestamp that is not
// an xs:dateTime is an error naming the trace and event.
func ReadXES(r io.Reader) (*Log, error) {
	var x xesLog
	if err := xml.NewDecoder(r).Decode(&x); err != nil {
		return nil, fmt.Errorf("bad xes: %v", err)
	}
	l := &Log{}
	for ti, xt := range x.Traces {
		t := Trace{}
		for _, a := range xt.Attrs {
			if a.XMLName.Local == "event" {
				continue
			}
			if a.Key == "concept:name" {
				t.Case = a.Value
			} else {
				t.Attrs = append(t.Attrs, Attr{a.Key, a.Value})
			}
		}
		for ei, xe := range xt.Events {
			var e Event
			for _, a := range xe.Attrs {
				switch a.Key {
				case "concept:name":
					e.Activity = a.Value
				case "lifecycle:transition":
					e.Lifecycle = a.Value
				case "org:resource":
					e.Resource = a.Value
				case "time:timestamp":
					tm, err := time.Parse(time.RFC3339Nano, a.Value)
					if err != nil {
						return nil, fmt.Errorf("bad xes: trace %d event %d: bad time:timestamp %q", ti+1, ei+1, a.Value)
					}
					e.Time = tm
				}
			}
			t.Events = append(t.Events, e)
		}
		l.Traces = append(l.Traces, t)
	}
	return l, nil
}
