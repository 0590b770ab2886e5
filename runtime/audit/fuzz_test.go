package audit

import (
	"bytes"
	"testing"

	"github.com/knhk/knhk/runtime/sign"
)

// FuzzDecodeLine checks that a line either decodes to a record that
// encodes back to a line decoding to the same record, or is refused;
// never a panic.
func FuzzDecodeLine(f *testing.F) {
	r := rec("acme", "/knhk.v1.KnhkService/GetCase", ResultOK)
	r.Hash = r.ComputeHash()
	f.Add(bytes.TrimSpace(encodeLine(&r)))
	f.Add([]byte(`{"seq":1}`))
	f.Add([]byte(`{"seq":0,"action":"a","result":"ok","prev":"zz"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeLine(b)
		if err != nil {
			return
		}
		back, err := decodeLine(bytes.TrimSpace(encodeLine(r)))
		if err != nil || back.BodyDigest() != r.BodyDigest() || back.Hash != r.Hash {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// FuzzDecodeEvidence checks that any input is a report or an error, and
// that a report decoded can be checked without a panic.
func FuzzDecodeEvidence(f *testing.F) {
	f.Add([]byte(`{"format":"knhk-audit-evidence/v1","records":[{"seq":0}],"anchors":[{"size":3}]}`))
	f.Add([]byte(`<html>` + htmlDataOpen + `{"format":"knhk-audit-evidence/v1"}</script>`))
	// A cluster's report anchored in its tree (treehead.go), checked
	// with the key that signed it too.
	k := treeKey(f)
	var anchored bytes.Buffer
	WriteJSON(&anchored, treeAnchored(f, 5, k))
	f.Add(anchored.Bytes())
	f.Add([]byte(`{"format":"knhk-audit-evidence/v1","records":[],"tree":{"head":{"size":2},"proofs":[[],[]]}}`))
	trust := sign.NewTrustSet(k.Public())
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := DecodeEvidence(b)
		if err != nil {
			return
		}
		_ = Check(ev, VerifyOptions{})
		_ = Check(ev, VerifyOptions{Trust: trust, Anchored: true})
	})
}
