// This file fuzzes the readers: they never panic, reject what they
// cannot read with an *Error, and a log they accept has events, each
// case id set, and survives export and reading back.

package eventlog_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/eventlog"
	"github.com/knhk/knhk/runtime/export"
)

func FuzzRead(f *testing.F) {
	var x, c bytes.Buffer
	export.WriteXES(&x, sample())
	export.WriteCSV(&c, sample())
	f.Add("l.xes", x.Bytes())
	f.Add("l.csv", c.Bytes())
	f.Add("l.csv", []byte("CaseID,ActivityID,CompleteTimestamp\n2,1,2012-04-03 16:55:38\n2,8,2012-04-03 16:55:53\n"))
	f.Add("l.xes", []byte(`<log><trace><string key="concept:name" value="c"/><event><string key="concept:name" value="a"/><list key="l"><string key="x" value="y"/></list></event></trace></log>`))
	f.Fuzz(func(t *testing.T, name string, in []byte) {
		l, err := eventlog.Read(bytes.NewReader(in), name)
		if err != nil {
			var pe *eventlog.Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not an *eventlog.Error", err, err)
			}
			return
		}
		n := 0
		for _, tr := range l.Traces {
			n += len(tr.Events)
			if tr.Case == "" {
				t.Fatalf("trace without case id")
			}
		}
		if n == 0 {
			t.Fatalf("accepted a log without events")
		}
		var out bytes.Buffer
		if err := export.WriteXES(&out, l); err != nil {
			t.Fatal(err)
		}
		back, err := eventlog.ReadXES(&out, "back.xes")
		if err != nil {
			t.Fatalf("reading back: %v\n%s", err, out.Bytes())
		}
		for i := range l.Traces {
			for j := range l.Traces[i].Events {
				a, b := l.Traces[i].Events[j], back.Traces[i].Events[j]
				// XES keeps milliseconds.
				if a.Activity != b.Activity || !a.Time.Truncate(time.Millisecond).Equal(b.Time.Truncate(time.Millisecond)) {
					t.Fatalf("event %d/%d changed: %+v -> %+v", i, j, a, b)
				}
			}
		}
	})
}
