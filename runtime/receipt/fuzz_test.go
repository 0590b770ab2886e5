// This file fuzzes the decoders of receipt lines, checkpoint lines and
// proof files: an error or a value that encodes back to an equal one,
// and checking a decoded proof never panics.

package receipt

import (
	"encoding/json"
	"testing"

	"github.com/knhk/knhk/runtime/sign"
)

func FuzzDecodeReceipt(f *testing.F) {
	r := &Receipt{Seq: 3, Case: "c-1", Kind: "fire", Trans: 2, Descriptor: "d"}
	r.Hash = r.ComputeHash()
	line, _ := encodeLine(r)
	f.Add(line[:len(line)-1])
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeLine(b)
		if err != nil {
			return
		}
		line, err := encodeLine(r)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := decodeLine(line[:len(line)-1])
		if err != nil || *r2 != *r || r2.ComputeHash() != r.ComputeHash() {
			t.Fatalf("receipt does not round-trip: %v", err)
		}
	})
}

func FuzzDecodeCheckpoint(f *testing.F) {
	cp := &Checkpoint{Size: 7, Time: 1}
	signCheckpoint(cp, testKey)
	line, _ := encodeCheckpoint(cp)
	f.Add(line[:len(line)-1])
	trust := sign.NewTrustSet(testKey.Public())
	f.Fuzz(func(t *testing.T, b []byte) {
		cp, err := decodeCheckpoint(b)
		if err != nil {
			return
		}
		if k := trust.Key(cp.Key); k != nil {
			_ = cp.VerifySignature(k) // must not panic
		}
		line, _ := encodeCheckpoint(cp)
		if _, err := decodeCheckpoint(line[:len(line)-1]); err != nil {
			t.Fatalf("checkpoint does not round-trip: %v", err)
		}
	})
}

func FuzzDecodeProof(f *testing.F) {
	dir := writeLog(f, 30)
	p, err := Prove(dir, "c-1")
	if err != nil {
		f.Fatal(err)
	}
	b, _ := json.Marshal(p)
	f.Add(b)
	trust := sign.NewTrustSet(testKey.Public())
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodeProof(b)
		if err != nil {
			return
		}
		_, _ = CheckProof(p, trust, sign.Policy{}) // must not panic
	})
}
