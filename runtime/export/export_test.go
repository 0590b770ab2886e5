// This file tests the XES and CSV writers and readers, and reads a log
// written by another tool.

package export

import (
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func sample() *Log {
	t0 := time.Date(2026, 11, 27, 8, 0, 0, 123_000_000, time.UTC)
	return &Log{Traces: []Trace{
		{Case: "c-1", Attrs: []Attr{{"workflow", "Hold"}, {"descriptor", "ab<&>\""}}, Events: []Event{
			{Activity: "note", Lifecycle: Start, Time: t0, Resource: "exec"},
			{Activity: "note", Lifecycle: Complete, Time: t0.Add(time.Second), Resource: "exec"},
			{Activity: "signal Approve", Lifecycle: Complete, Time: t0.Add(2 * time.Second)},
		}},
		{Case: "c-2", Attrs: []Attr{{"workflow", "Other"}}, Events: []Event{
			{Activity: "a, \"quoted\"", Lifecycle: Complete, Time: t0.Add(time.Minute)},
		}},
	}}
}

func TestXESRoundTrip(t *testing.T) {
	var b bytes.Buffer
	if err := WriteXES(&b, sample()); err != nil {
		t.Fatal(err)
	}
	got, err := ReadXES(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, sample()) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, sample())
	}
	// Independently of our reader: well-formed, the four extensions
	// declared, two traces.
	var doc struct {
		Ext []struct {
			Name string `xml:"name,attr"`
		} `xml:"extension"`
		Traces []struct {
			Events []struct{} `xml:"event"`
		} `xml:"trace"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range doc.Ext {
		names = append(names, e.Name)
	}
	if strings.Join(names, ",") != "Concept,Lifecycle,Time,Organizational" {
		t.Errorf("extensions %v", names)
	}
	if len(doc.Traces) != 2 || len(doc.Traces[0].Events) != 3 || len(doc.Traces[1].Events) != 1 {
		t.Errorf("traces %+v", doc.Traces)
	}
}

func TestCSVRoundTrip(t *testing.T) {
	var b bytes.Buffer
	if err := WriteCSV(&b, sample()); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(b.Bytes())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 || !reflect.DeepEqual(rows[0], CSVHeader) || rows[4][1] != "a, \"quoted\"" {
		t.Fatalf("rows %q", rows)
	}
	got, err := ReadCSV(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	want := sample()
	for i := range want.Traces {
		want.Traces[i].Attrs = nil // CSV has no trace attributes
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
	}
}

func TestReadBad(t *testing.T) {
	for _, in := range []string{"", "<log><trace><event><date key=\"time:timestamp\" value=\"yesterday\"/></event></trace></log>", "<log><trace>"} {
		if _, err := ReadXES(strings.NewReader(in)); err == nil {
			t.Errorf("ReadXES(%q) succeeded", in)
		}
	}
	for _, in := range []string{"", "a,b\n", strings.Join(CSVHeader, ",") + "\nc,a,complete,never,\n", strings.Join(CSVHeader, ",") + "\nc,a\n"} {
		if _, err := ReadCSV(strings.NewReader(in)); err == nil {
			t.Errorf("ReadCSV(%q) succeeded", in)
		}
	}
}

// TestReadRunningExample reads the running example of the process-mining
// literature as written by another tool (Fluxicon Nitro).
func TestReadRunningExample(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "data", "eventlogs", "running-example.xes")
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("no running example: %v", err)
	}
	defer f.Close()
	l, err := ReadXES(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Traces) != 6 {
		t.Fatalf("%d traces, want 6", len(l.Traces))
	}
	events := 0
	for _, tr := range l.Traces {
		if tr.Case == "" || len(tr.Events) == 0 {
			t.Errorf("trace %+v", tr)
		}
		for _, e := range tr.Events {
			if e.Activity == "" || e.Resource == "" || e.Time.IsZero() {
				t.Errorf("case %s: event %+v", tr.Case, e)
			}
		}
		events += len(tr.Events)
		if tr.Attr("creator") != "Fluxicon Nitro" {
			t.Errorf("case %s: creator %q", tr.Case, tr.Attr("creator"))
		}
	}
	if events != 42 {
		t.Errorf("%d events, want 42", events)
	}
	first := l.Traces[0].Events[0]
	if first.Activity != "register request" || first.Resource != "Pete" || !first.Time.Equal(time.Date(2010, 12, 30, 13, 32, 0, 0, time.UTC)) {
		t.Errorf("first event %+v", first)
	}
}
