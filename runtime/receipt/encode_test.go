// This file checks the hand-built receipt line against encoding/json,
// and that an event's digest survives the event log's encoding, so an
// auditor can recompute it from the stored events.

package receipt

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
)

func TestEncodeLineMatchesJSON(t *testing.T) {
	for _, id := range []string{"c-0123", "naïve\"case\\\n", ""} {
		r := &Receipt{Seq: 42, Case: id, Kind: "fire", Frame: -1, Trans: 7, Descriptor: "ab"}
		r.Input[3], r.Event[0], r.Output[31], r.Prev[9] = 1, 2, 3, 4
		r.Hash = r.ComputeHash()
		got, _ := encodeLine(r)
		want, _ := json.Marshal(r)
		if string(got) != string(want)+"\n" {
			t.Errorf("case %q:\n got %s\nwant %s", id, got, want)
		}
	}
}

func TestEventDigestSurvivesTheLog(t *testing.T) {
	ev := &engine.Event{Kind: engine.EvDone, Time: 99, Inv: 3, Outs: []int32{}, Values: append(eval.Values(
		int64(1), 2, 2.5, "s", []byte("b"), nil, true, time.Second, time.Unix(5, 6).UTC(),
		[]any{int64(1), "x"}), eval.Map(eval.Values("b", "a"), eval.Values(int64(2), []any{})),
		eval.Enum(1, "green"), eval.Record(nil, eval.Values("r", int64(7))), eval.I32(-3), eval.F32(0.5), eval.None,
	), Undo: []eval.Value{}, Name: "n", Message: "m"}
	d1, err := EventDigest(ev)
	if err != nil {
		t.Fatal(err)
	}
	b, err := engine.EncodeEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	back, err := engine.DecodeEvent(b)
	if err != nil {
		t.Fatal(err)
	}
	d2, _ := EventDigest(back)
	if d1 != d2 {
		t.Fatal("the digest of the decoded event differs")
	}
	// Every field counts: nil and empty Outs differ, as do the values.
	ev2 := *ev
	ev2.Outs = nil
	ev3 := *ev
	ev3.Values = append([]eval.Value{}, ev.Values...)
	ev3.Values[0] = eval.Int(2)
	for _, e := range []*engine.Event{&ev2, &ev3} {
		if d, _ := EventDigest(e); d == d1 {
			t.Error("a changed event has the same digest")
		}
	}
	// Empty Values and Features read back from the log as nil (a
	// workflow without parameters): the digest is the same.
	empty := &engine.Event{Kind: engine.EvStart, Values: []eval.Value{}, Features: []eval.Value{}, Undo: []eval.Value{}, Outs: []int32{}}
	b, _ = engine.EncodeEvent(empty)
	back, _ = engine.DecodeEvent(b)
	if d1, _ := EventDigest(empty); func() bool { d2, _ := EventDigest(back); return d1 != d2 }() {
		t.Error("an event with empty values digests differently once read back from the log")
	}
	// A typed value digests as its canonical encoding reads back: the
	// same digest whether the event is applied (typed) or not.
	ty := &engine.Event{Kind: engine.EvDone, Values: []eval.Value{eval.Enum(1, "green"), eval.I32(4)}}
	un := &engine.Event{Kind: engine.EvDone, Values: eval.Values("green", int64(4))}
	dt, errT := EventDigest(ty)
	du, errU := EventDigest(un)
	if errT != nil || errU != nil || dt != du {
		t.Errorf("a typed event digests differently from its untyped form (%v, %v)", errT, errU)
	}
}

// A receipt's hash is the RFC 6962 leaf hash of its encoding, computed
// here by the merkle library itself.
func TestReceiptHashIsLeafHash(t *testing.T) {
	r := &Receipt{Seq: 7, Case: "c", Kind: "fire", Descriptor: "d"}
	b := []byte("knhk-receipt/v1\x00")
	b = append(b, 7, 1, 'c', 4, 'f', 'i', 'r', 'e', 1, 'd', 0, 0)
	b = append(b, make([]byte, 4*32)...)
	var want Digest
	copy(want[:], hasher.HashLeaf(b))
	if r.ComputeHash() != want {
		t.Fatal("the receipt hash is not the leaf hash of its encoding")
	}
}

// The recorder's inner node hash is the merkle library's.
func TestHashChildrenIsRFC6962(t *testing.T) {
	l, r := make([]byte, 32), make([]byte, 32)
	for i := range l {
		l[i], r[i] = byte(i), byte(255-i)
	}
	if got, want := hashChildren(l, r), hasher.HashChildren(l, r); string(got) != string(want) {
		t.Fatalf("%x, want %x", got, want)
	}
}
