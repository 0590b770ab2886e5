package license

import (
	"bytes"
	"testing"
)

// FuzzParse feeds damaged licence files to Parse: it must never panic,
// and whatever it accepts must re-encode to the payload it was signed
// over (the signature binds exactly those bytes).
func FuzzParse(f *testing.F) {
	f.Add(issue(f, payload(f, "team")))
	f.Add(issue(f, payload(f, "enterprise")))
	f.Add([]byte("-----BEGIN KNHK LICENSE-----\nVersion: 1\n\ne30=\n-----END KNHK LICENSE-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := Parse(b)
		if err != nil {
			return
		}
		if l.Sig.Subject != Subject(l.Raw) {
			t.Fatalf("accepted a signature for another payload")
		}
		if err := l.check(); err != nil {
			t.Fatalf("accepted a bad payload: %v", err)
		}
		if !bytes.Contains(b, []byte("KNHK LICENSE")) {
			t.Fatalf("accepted a file without a licence block")
		}
	})
}

func FuzzParseTiers(f *testing.F) {
	f.Add([]byte(tiersJSON))
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, err := ParseTiers(b)
		if err != nil {
			return
		}
		for name, l := range ts.Tiers {
			if err := l.check(); err != nil {
				t.Fatalf("tier %s accepted with %v", name, err)
			}
		}
	})
}
