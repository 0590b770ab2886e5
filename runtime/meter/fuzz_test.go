package meter_test

import (
	"strings"
	"testing"

	"github.com/knhk/knhk/runtime/meter"
	"github.com/knhk/knhk/runtime/sign"
)

// FuzzParse feeds damaged report files to Parse: no panic, and what it
// accepts is signed over exactly its own bytes and re-encodes to them.
func FuzzParse(f *testing.F) {
	k, err := sign.Generate(sign.Ed25519)
	if err != nil {
		f.Fatal(err)
	}
	b, err := meter.Sign(k, meter.Usage{Version: meter.Version, Customer: "acme", Month: "2026-12", Events: 2, Transitions: 1, Cases: 1, FirstSeq: 1, LastSeq: 2, Digest: strings.Repeat("0f", 32)})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := meter.Parse(b)
		if err != nil {
			return
		}
		if r.Sig.Subject != meter.Subject(r.Raw) {
			t.Fatal("accepted a signature over other bytes")
		}
		if r.Transitions > r.Events || r.FirstSeq > r.LastSeq {
			t.Fatalf("accepted inconsistent counts %+v", r.Usage)
		}
	})
}
