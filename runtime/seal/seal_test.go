// This file tests sealing end to end: a value opens with its key only,
// and a changed, cut or misaddressed value, or a bad key file, is a
// clear error.

package seal

import (
	"errors"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	for _, msg := range []string{"", "s3cret", strings.Repeat("x", 5000)} {
		s, err := k.Public().Seal([]byte(msg))
		if err != nil {
			t.Fatal(err)
		}
		if !IsSealed(s) || strings.Contains(s, "s3cret") {
			t.Fatalf("sealed text %q…", s[:40])
		}
		got, err := k.Open(s)
		if err != nil || string(got) != msg {
			t.Fatalf("open: %q, %v", got, err)
		}
	}
	// Two seals of one value differ: nothing links them.
	a, _ := k.Public().Seal([]byte("v"))
	b, _ := k.Public().Seal([]byte("v"))
	if a == b {
		t.Fatal("sealing is deterministic")
	}
}

func TestOpenFailures(t *testing.T) {
	k, _ := GenerateKey()
	other, _ := GenerateKey()
	s, _ := k.Public().Seal([]byte("s3cret"))
	if _, err := other.Open(s); !errors.Is(err, ErrWrongKey) {
		t.Errorf("other key: %v", err)
	}
	// Change one character at several places: the id, the KEM
	// ciphertext, the nonce, the body.
	body := s[len(Prefix):]
	for _, at := range []int{2, 30, 1500, len(body) - 3} {
		c := []byte(body)
		if c[at] == 'A' {
			c[at] = 'B'
		} else {
			c[at] = 'A'
		}
		if _, err := k.Open(Prefix + string(c)); err == nil {
			t.Errorf("changed at %d: opened", at)
		}
	}
	for _, bad := range []string{"plain", Prefix + "!!", Prefix + body[:100]} {
		if _, err := k.Open(bad); err == nil {
			t.Errorf("%q opened", bad[:min(len(bad), 30)])
		}
	}
}

func TestKeyFiles(t *testing.T) {
	k, _ := GenerateKey()
	k2, err := ParsePrivateKey(k.MarshalPEM())
	if err != nil || k2.ID() != k.ID() {
		t.Fatalf("private key: %v", err)
	}
	p, err := ParsePublicKey(k.Public().MarshalPEM())
	if err != nil || p.ID() != k.ID() {
		t.Fatalf("public key: %v", err)
	}
	s, _ := p.Seal([]byte("x"))
	if got, err := k2.Open(s); err != nil || string(got) != "x" {
		t.Fatalf("seal with the read public key, open with the read private key: %v", err)
	}
	good := string(k.MarshalPEM())
	for in, want := range map[string]string{
		"":                                       "not a knhk key",
		good[:len(good)/2]:                       "truncated",
		string(k.Public().MarshalPEM()):          "opening needs the private key",
		strings.ReplaceAll(good, "SEAL ", ""):    "signing key, not a sealing key",
		strings.Replace(good, "xwing", "rsa", 1): `algorithm "rsa"`,
		good + "x\n":                             "stray text",
	} {
		if _, err := ParsePrivateKey([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want …%s…", err, want)
		}
	}
}

func FuzzOpen(f *testing.F) {
	k, _ := GenerateKey()
	s, _ := k.Public().Seal([]byte("s3cret"))
	f.Add(s)
	f.Fuzz(func(t *testing.T, s string) {
		pt, err := k.Open(s)
		if err == nil && string(pt) != "s3cret" {
			t.Fatalf("a changed value opened to %q", pt)
		}
	})
}

func FuzzParseKey(f *testing.F) {
	k, _ := GenerateKey()
	f.Add(k.MarshalPEM())
	f.Add(k.Public().MarshalPEM())
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, err := ParsePublicKey(b); err == nil {
			if _, err := p.Seal([]byte("x")); err != nil && !strings.Contains(err.Error(), "xwing") {
				t.Fatalf("seal with a parsed key: %v", err)
			}
		}
		if k, err := ParsePrivateKey(b); err == nil {
			s, _ := k.Public().Seal([]byte("x"))
			if pt, err := k.Open(s); err != nil || string(pt) != "x" {
				t.Fatalf("parsed key does not round-trip: %v", err)
			}
		}
	})
}
