// This file tests proofs: a proof checks offline with the signer's
// public key, and a changed receipt, a dropped receipt, a wrong key or
// a forged consistency proof each fail.

package receipt

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/knhk/knhk/runtime/sign"
)

func roundTrip(t *testing.T, p *Proof) *Proof {
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	q, err := DecodeProof(b)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestProveAndCheck(t *testing.T) {
	dir := writeLog(t, 30)
	trust := sign.NewTrustSet(testKey.Public())
	for _, id := range []string{"c-0", "c-1", "c-2"} {
		p, err := Prove(dir, id)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := CheckProof(roundTrip(t, p), trust, sign.Policy{})
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if rep.Receipts != 10 || rep.Size != 30 || !rep.Complete || rep.Earlier != 7 {
			t.Fatalf("%s: report %+v", id, rep)
		}
	}
	if _, err := Prove(dir, "c-9"); err == nil || !strings.Contains(err.Error(), "no receipt of case c-9") {
		t.Fatalf("unknown case: %v", err)
	}

	bad := func(name string, edit func(p *Proof), want string) {
		t.Helper()
		p, _ := Prove(dir, "c-1")
		p = roundTrip(t, p)
		edit(p)
		_, err := CheckProof(p, trust, sign.Policy{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want …%s…", name, err, want)
		}
	}
	bad("changed receipt", func(p *Proof) { p.Receipts[3].Receipt.Kind = "cancel" }, "hash does not match")
	bad("dropped receipt", func(p *Proof) { p.Receipts = append(p.Receipts[:4], p.Receipts[5:]...) }, "a receipt is missing")
	bad("reordered receipts", func(p *Proof) { p.Receipts[2], p.Receipts[3] = p.Receipts[3], p.Receipts[2] }, "does not follow receipt")
	bad("wrong inclusion", func(p *Proof) { p.Receipts[1].Inclusion[0][0] ^= 1 }, "not in the checkpoint's tree")
	bad("moved receipt", func(p *Proof) {
		r := *p.Receipts[0].Receipt
		r.Seq++
		r.Hash = r.ComputeHash()
		p.Receipts[0].Receipt = &r
	}, "not in the checkpoint's tree")
	bad("forged root", func(p *Proof) { p.Checkpoint.Root[0] ^= 1 }, "does not verify")
	bad("forged consistency", func(p *Proof) { p.Earlier.Proof[0][0] ^= 1 }, "not a prefix")
	other, _ := sign.Generate(sign.MLDSA44)
	p, _ := Prove(dir, "c-1")
	if _, err := CheckProof(p, sign.NewTrustSet(other.Public()), sign.Policy{}); err == nil || !strings.Contains(err.Error(), "not trusted") {
		t.Errorf("untrusted key: %v", err)
	}
}

func TestDecodeProofStrict(t *testing.T) {
	for _, in := range []string{"", "{}", `{"version":1}`, `{"version":2,"case":"c"}`, `{"version":1,"bogus":1}`, `{"version":1,"checkpoint":{},"receipts":[null]}`} {
		if _, err := DecodeProof([]byte(in)); err == nil {
			t.Errorf("%q: decoded", in)
		}
	}
}
