package eventlog_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/eventlog"
	"github.com/knhk/knhk/runtime/eventlog/eventlogtest"
	"github.com/knhk/knhk/runtime/export"
)

// TestSharedLogs reads every shared real log and checks the case and
// event counts that its README states.
func TestSharedLogs(t *testing.T) {
	for _, c := range []struct {
		name           string
		traces, events int
	}{
		{"running-example.xes", 6, 42},
		{"08_receipt.xes.gz", 1434, 8577},
		{"03_repairExample.xes.gz", 1104, 11855},
		{"helpdesk.xes.gz", 4580, 21348},
		{"helpdesk.csv", 3804, 13710},
		{"bpi_12_w.csv", 9658, 72413},
	} {
		if (testing.Short() || raceEnabled) && c.events > 20000 {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			l := eventlogtest.Read(t, c.name)
			n := 0
			for _, tr := range l.Traces {
				n += len(tr.Events)
				for _, e := range tr.Events {
					if e.Activity == "" || e.Time.IsZero() {
						t.Fatalf("case %s: event without activity or time: %+v", tr.Case, e)
					}
				}
			}
			if len(l.Traces) != c.traces || n != c.events {
				t.Errorf("%d traces, %d events; want %d, %d", len(l.Traces), n, c.traces, c.events)
			}
		})
	}
	l := eventlogtest.Read(t, "running-example.xes")
	if got := l.Traces[0]; got.Case != "3" || got.Events[0].Activity != "register request" || got.Events[0].Resource != "Pete" ||
		!got.Events[0].Time.Equal(time.Date(2010, 12, 30, 13, 32, 0, 0, time.UTC)) {
		t.Errorf("first trace of running-example: %+v", got)
	}
}

func sample() *export.Log {
	t0 := time.Date(2024, 5, 1, 9, 0, 0, 0, time.UTC)
	return &export.Log{Traces: []export.Trace{
		{Case: "c-1", Attrs: []export.Attr{{Key: "workflow", Value: "Order"}}, Events: []export.Event{
			{Activity: "pick & pack", Lifecycle: export.Start, Time: t0, Resource: "exec"},
			{Activity: "pick & pack", Lifecycle: export.Complete, Time: t0.Add(time.Second), Resource: "exec"},
		}},
		{Case: "c-2", Events: []export.Event{{Activity: "signal <Paid>", Lifecycle: export.Complete, Time: t0.Add(time.Minute)}}},
	}}
}

// TestReadsExport reads back what runtime/export writes, XES (plain and
// gzip) and CSV, unchanged: the two packages share one vocabulary.
func TestReadsExport(t *testing.T) {
	want := sample()
	var x, c, z bytes.Buffer
	if err := export.WriteXES(&x, want); err != nil {
		t.Fatal(err)
	}
	if err := export.WriteCSV(&c, want); err != nil {
		t.Fatal(err)
	}
	zw := gzip.NewWriter(&z)
	zw.Write(x.Bytes())
	zw.Close()
	for name, in := range map[string][]byte{"l.xes": x.Bytes(), "l.csv": c.Bytes(), "l.xes.gz": z.Bytes(), "noext": x.Bytes(), "noext2": c.Bytes()} {
		got, err := eventlog.Read(bytes.NewReader(in), name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.Contains(name, "csv") || name == "noext2" {
			want2 := *want
			want2.Traces = append([]export.Trace(nil), want.Traces...)
			want2.Traces[0].Attrs = nil // CSV has no trace attributes
			if !reflect.DeepEqual(got, &want2) {
				t.Errorf("%s: got %+v", name, got)
			}
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v\nwant %+v", name, got, want)
		}
	}
}

// TestBadLogs checks that empty and malformed logs are errors that say
// where the problem is.
func TestBadLogs(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"e.xes", "", `e.xes:1:1: not an XES log: no <log> element`},
		{"e.xes", "<log>\n</log>", `e.xes:2:7: the log has no events`},
		{"e.xes", "<log><trace></trace></log>", `e.xes:1:27: the log has no events`},
		{"e.xes", "<html></html>", `e.xes:1:7: not an XES log: root element is <html>, want <log>`},
		{"e.xes", "<log>\n<trace>\n<event>\n<string key='a' value='b'>\n</event></trace></log>", `e.xes:5: malformed XML: element <string> closed by </event>`},
		{"e.xes", "<log>\n<trace>\n<event>\n<date key='time:timestamp' value='yesterday'/></event></trace></log>", `e.xes:4:47: trace 1: bad time:timestamp "yesterday"`},
		{"e.xes", "<log><trace><event>", `e.xes:1: malformed XML: unexpected EOF`},
		{"e.csv", "", `e.csv:1: empty file: want a header row and events`},
		{"e.csv", "case_id,activity,timestamp\n", `e.csv:2: no events after the header`},
		{"e.csv", "id,what,when\n", `e.csv:1: no case id, activity, timestamp column in header ["id" "what" "when"]`},
		{"e.csv", "CaseID,ActivityID,CompleteTimestamp\n1,a,2012-04-03 16:55:38\n1,b,soon\n", `e.csv:3:5: bad timestamp "soon"`},
		{"e.csv", "CaseID,ActivityID,CompleteTimestamp\n1,a,2012-04-03 16:55:38\n1,b\n", `e.csv:3:1: malformed CSV: wrong number of fields`},
		{"e.csv", "CaseID,ActivityID,CompleteTimestamp\n,a,2012-04-03 16:55:38\n", `e.csv:2:1: empty case id`},
		{"e.csv", "CaseID,ActivityID,CompleteTimestamp\n1,\"a,2012\n", `e.csv:2:11: malformed CSV: extraneous or missing " in quoted-field`},
		{"e.xes.gz", "\x1f\x8bnot gzip", `e.xes.gz: bad gzip`},
	} {
		_, err := eventlog.Read(strings.NewReader(c.in), c.name)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %s", c.in, err, c.want)
		}
		var pe *eventlog.Error
		if err != nil && !errors.As(err, &pe) {
			t.Errorf("%q: %v is not an *eventlog.Error", c.in, err)
		}
	}
	_, err := eventlog.Read(strings.NewReader("<log></log>"), "x.xes")
	if !errors.Is(err, eventlog.ErrEmpty) {
		t.Errorf("empty log: %v does not wrap ErrEmpty", err)
	}
}

// TestLatin1 reads an XES document declared ISO-8859-1, as pm4py writes.
func TestLatin1(t *testing.T) {
	in := "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><log><trace><event><string key=\"concept:name\" value=\"caf\xe9\"/><date key=\"time:timestamp\" value=\"2020-01-01T00:00:00\"/></event></trace></log>"
	l, err := eventlog.Read(strings.NewReader(in), "l.xes")
	if err != nil {
		t.Fatal(err)
	}
	if a := l.Traces[0].Events[0].Activity; a != "café" {
		t.Errorf("activity %q", a)
	}
}
