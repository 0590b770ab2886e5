// This file fuzzes the XES and CSV readers: they reject what they cannot
// read with an error, and a log they accept survives being written and
// read again unchanged.

package export

import (
	"bytes"
	"io"
	"reflect"
	"testing"
)

func FuzzReadXES(f *testing.F) {
	var b bytes.Buffer
	if err := WriteXES(&b, sample()); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add([]byte(`<log><trace><string key="concept:name" value="c"/><event><date key="time:timestamp" value="x"/></event></trace></log>`))
	f.Fuzz(func(t *testing.T, in []byte) { roundTrip(t, in, ReadXES, WriteXES) })
}

func FuzzReadCSV(f *testing.F) {
	var b bytes.Buffer
	if err := WriteCSV(&b, sample()); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add([]byte("case,activity,lifecycle,timestamp,resource\nc,a,start,nope,\n"))
	f.Fuzz(func(t *testing.T, in []byte) { roundTrip(t, in, ReadCSV, WriteCSV) })
}

// roundTrip checks that a log read from in, when there is one, is
// written, read back and found unchanged.
func roundTrip(t *testing.T, in []byte, read func(io.Reader) (*Log, error), write func(io.Writer, *Log) error) {
	l, err := read(bytes.NewReader(in))
	if err != nil {
		return
	}
	var out bytes.Buffer
	if err := write(&out, l); err != nil {
		t.Fatalf("read %q but cannot write it: %v", in, err)
	}
	back, err := read(&out)
	if err != nil {
		t.Fatalf("cannot read back what was written from %q: %v\n%s", in, err, out.Bytes())
	}
	if !sameLog(l, back) {
		t.Fatalf("round trip of %q changed the log:\n%+v\n%+v", in, l, back)
	}
}

// sameLog compares logs with times compared as instants.
func sameLog(a, b *Log) bool {
	if len(a.Traces) != len(b.Traces) {
		return false
	}
	for i := range a.Traces {
		x, y := a.Traces[i], b.Traces[i]
		if x.Case != y.Case || !reflect.DeepEqual(x.Attrs, y.Attrs) || len(x.Events) != len(y.Events) {
			return false
		}
		for k := range x.Events {
			e, g := x.Events[k], y.Events[k]
			if e.Activity != g.Activity || e.Lifecycle != g.Lifecycle || e.Resource != g.Resource || !e.Time.Equal(g.Time) {
				return false
			}
		}
	}
	return true
}
