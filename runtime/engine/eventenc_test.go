package engine

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/knhk/knhk/runtime/eval"
)

// encodeEventReflect is EncodeEvent as it was: encoding/json over the
// wireEvent and Tag's trees. EncodeEvent must write the same bytes.
func encodeEventReflect(ev *Event) ([]byte, error) {
	w := wireEvent{K: ev.Kind, T: ev.Time, F: ev.Frame, Tr: ev.Trans, I: ev.Inv, O: ev.Outs,
		ON: ev.Outs != nil && len(ev.Outs) == 0, A: ev.Attempts, L: ev.Limit, Q: ev.Quorum,
		TO: ev.Timeout, D: ev.Due, At: ev.Attempt, C: ev.Choice, N: ev.Name, M: ev.Message, Lo: encodeLoc(ev.Loc), UN: ev.Undo != nil && len(ev.Undo) == 0,
		RW: ev.Reward, RD: ev.Rewarded, Fr: ev.From}
	w.V = eval.TagAll(ev.Values, false)
	w.Fe = eval.TagAll(ev.Features, false)
	w.U = eval.TagAll(ev.Undo, false)
	return json.Marshal(&w)
}

// sameEncoding fails t unless EncodeEvent and encoding/json agree on ev.
func sameEncoding(t testing.TB, ev *Event) {
	t.Helper()
	want, wantErr := encodeEventReflect(ev)
	got, err := EncodeEvent(ev)
	if (err != nil) != (wantErr != nil) || err == nil && !bytes.Equal(got, want) {
		t.Fatalf("%+v: EncodeEvent %s (%v), encoding/json %s (%v)", ev, got, err, want, wantErr)
	}
}

// TestEncodeEventAsJSON: every event of a real run, with its typed
// values, encodes to the bytes encoding/json wrote.
func TestEncodeEventAsJSON(t *testing.T) {
	x := newFixture(t)
	richNet(x)
	x.start("c", "Rich")
	events := x.log.Events("c")
	if len(events) < 5 {
		t.Fatalf("only %d events", len(events))
	}
	for i := range events {
		sameEncoding(t, &events[i])
	}
	sameEncoding(t, &Event{Outs: []int32{}, Undo: []eval.Value{}, Values: []eval.Value{}})
	sameEncoding(t, &Event{Kind: EvDone, Reward: 1e-7, Rewarded: true, From: "a<b", Message: "é\u2028"})
}

// FuzzEncodeEvent: any event the log can hold, with any reward and
// strings, encodes as encoding/json encoded it.
func FuzzEncodeEvent(f *testing.F) {
	x := newFixture(f)
	richNet(x)
	x.start("c", "Rich")
	for _, ev := range x.log.Events("c") {
		b, err := EncodeEvent(&ev)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, 0.0, "")
	}
	f.Add([]byte(`{"k":2,"f":0,"tr":1,"o":[0,7,-1],"lo":{"f":1,"s":2,"e":3}}`), 2.5e-9, "n\x00<&>\xff")
	f.Add([]byte(`{"k":6,"i":3,"v":[{"f":1e300},{"b":"AAE="},{"l":[null,true,"x"]}],"u":[],"fe":[{"d":"7"},{"t":"-1"}]}`), -1e21, "ok")
	f.Fuzz(func(t *testing.T, b []byte, reward float64, s string) {
		ev, err := DecodeEvent(b)
		if err != nil {
			return
		}
		sameEncoding(t, ev)
		ev.Reward, ev.Name, ev.From = reward, s, s
		sameEncoding(t, ev)
	})
}
