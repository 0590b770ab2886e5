// This file implements XES (IEEE 1849-2016) writing and reading.

package export

import (
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
func WriteXES(w io.Writer, l *Log) error { return writeAll(NewXESWriter(w), l) }

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
