// This file fuzzes the event codec: the decoder rejects what it cannot
// read, what it accepts survives a round trip, and Apply never panics on
// a decoded event, whatever the log held.

package engine

import (
	"bytes"
	"reflect"
	"testing"
)

func FuzzDecodeEvent(f *testing.F) {
	x := newFixture(f)
	richNet(x)
	x.start("c", "Rich")
	m := x.eng.Machine()
	events := x.log.Events("c")
	for i := range events {
		b, err := EncodeEvent(&events[i])
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"k":2,"f":0,"tr":1,"o":[0,7,-1]}`))
	f.Add([]byte(`{"k":6,"i":0,"v":[{"$":"bad"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := DecodeEvent(b)
		if err != nil {
			return
		}
		again, err := EncodeEvent(ev)
		if err != nil {
			t.Fatalf("decoded %q but cannot encode it: %v", b, err)
		}
		back, err := DecodeEvent(again)
		if err != nil {
			t.Fatalf("cannot decode %q, the encoding of %q: %v", again, b, err)
		}
		third, err := EncodeEvent(back)
		if err != nil || !bytes.Equal(again, third) {
			t.Fatalf("encoding of %q is not stable: %q then %q (%v)", b, again, third, err)
		}
		// Apply it after every prefix of a real run: it applies or is
		// refused, and a refusal leaves the state as it was.
		for stop := 0; stop <= len(events); stop += 3 {
			s := State{ID: "c"}
			for i := range stop {
				if err := m.Apply(&s, &events[i]); err != nil {
					t.Fatal(err)
				}
			}
			before := s.Clone()
			if err := m.Apply(&s, ev); err != nil && !reflect.DeepEqual(before, &s) {
				t.Fatalf("refused %+v (%v) but changed the state", ev, err)
			}
		}
	})
}
