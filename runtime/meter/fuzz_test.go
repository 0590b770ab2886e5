package meter_test

import (
	"os"
	"path/filepath"
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

// FuzzReadLedger: no ledger file panics ReadLedger; one it accepts has
// valid months and no negative use.
func FuzzReadLedger(f *testing.F) {
	f.Add([]byte(`{"version":1,"months":{"2026-12":{"ns":5,"calls":1}}}`))
	f.Add([]byte(`{"version":1,"months":{"2026-12":null}}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		os.MkdirAll(filepath.Dir(meter.LedgerPath(dir)), 0o755)
		os.WriteFile(meter.LedgerPath(dir), b, 0o644)
		l, err := meter.ReadLedger(dir)
		if err != nil {
			return
		}
		for m, u := range l.Months {
			if u == nil || u.NS < 0 || u.Calls < 0 || len(m) != 7 {
				t.Fatalf("accepted %q: month %q %+v", b, m, u)
			}
		}
	})
}
