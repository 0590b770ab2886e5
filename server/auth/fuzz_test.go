package auth

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/sign"
)

// FuzzVerify: no input panics the verifier, and whatever it accepts
// names a tenant and a real role and was signed by the configured key
// (a mutation of a good token is accepted only if it is the token).
func FuzzVerify(f *testing.F) {
	seed := ed25519.NewKeyFromSeed(make([]byte, 32))
	pub := seed.Public().(ed25519.PublicKey)
	id, _ := KeyID(pub)
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	good, err := Issue(seed, "knhk", Principal{Subject: "s", Tenant: "acme", Role: RoleOperator}, time.Hour, now)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add("")
	f.Add("a.b.c")
	f.Add(good[:len(good)-2])
	v := &Verifier{Keys: []Key{{ID: id, Pub: pub}}, Issuer: "knhk", Now: func() time.Time { return now }}
	f.Fuzz(func(t *testing.T, tok string) {
		p, err := v.Verify(tok)
		if err != nil {
			return
		}
		if p.Tenant == "" || p.Role < RoleViewer || p.Role > RoleAdmin {
			t.Fatalf("accepted %q as %+v", tok, p)
		}
	})
}

// FuzzSignedToken: no input panics the knhk token decoder or verifier;
// whatever parses re-encodes to the bytes signed, and whatever verifies
// is the issued token (any other bytes are a forgery of the composite
// signature).
func FuzzSignedToken(f *testing.F) {
	k := keyOf(f, sign.MLDSA65Ed25519)
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	good, err := IssueSigned(k, "knhk", "", Principal{Subject: "s", Tenant: "acme", Role: RoleOperator, Once: true}, time.Hour, now)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(TokenPrefix)
	f.Add(TokenPrefix + "e30." + strings.Repeat("A", 10))
	f.Add(good[:len(good)/2])
	v := &Verifier{Signers: sign.NewTrustSet(k.Public()), Issuer: "knhk", Now: func() time.Time { return now }}
	f.Fuzz(func(t *testing.T, tok string) {
		if c, signed, _, err := parseSigned(tok); err == nil {
			if c == nil || !strings.HasPrefix(tok, string(signed)+".") {
				t.Fatalf("parsed %q: signed bytes %q are not its prefix", tok, signed)
			}
		}
		p, err := v.Verify(tok)
		if err != nil {
			if !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("error %v does not wrap ErrUnauthenticated", err)
			}
			return
		}
		if tok != good || p.Tenant != "acme" || p.Role != RoleOperator {
			t.Fatalf("accepted %q as %+v", tok, p)
		}
	})
}
