package auth

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/sign"
)

// compositeKey returns a composite key, generated once per test binary
// (ML-DSA key generation is the slow part).
var compositeKeys = map[sign.Algorithm]*sign.PrivateKey{}

func keyOf(t testing.TB, alg sign.Algorithm) *sign.PrivateKey {
	t.Helper()
	if k := compositeKeys[alg]; k != nil {
		return k
	}
	k, err := sign.Generate(alg)
	if err != nil {
		t.Fatal(err)
	}
	compositeKeys[alg] = k
	return k
}

func TestSignedTokenRoundTrip(t *testing.T) {
	k := keyOf(t, sign.MLDSA65Ed25519)
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	tok, err := IssueSigned(k, "knhk", "", Principal{Subject: "ops", Tenant: "acme", Role: RoleDeployer}, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, TokenPrefix) || strings.Count(tok, ".") != 2 {
		t.Fatalf("token %q is not knhk1.CLAIMS.SIG", tok[:40])
	}
	v := &Verifier{Signers: sign.NewTrustSet(k.Public()), Issuer: "knhk", Now: func() time.Time { return now }}
	p, err := v.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if p.Subject != "ops" || p.Tenant != "acme" || p.Role != RoleDeployer || !p.Expires.Equal(now.Add(time.Hour)) || p.Once {
		t.Fatalf("principal %+v", p)
	}
	// Through Issuers, beside a JWT issuer: the claims' iss picks it.
	is := &Issuers{ByIssuer: map[string]*Verifier{"knhk": v, "oidc": {Keys: nil, Issuer: "oidc"}}}
	if p2, err := is.Verify(tok); err != nil || p2.Tenant != "acme" {
		t.Fatalf("Issuers: %+v %v", p2, err)
	}
	// A one-time token carries a jti.
	once, err := IssueSigned(k, "knhk", "", Principal{Subject: "ops", Tenant: "acme", Role: RoleOperator, Once: true}, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := v.Verify(once); err != nil || !p.Once || len(p.ID) != 32 {
		t.Fatalf("one-time token: %+v %v", p, err)
	}
}

// reclaim re-encodes tok's claims changed by edit, keeping the old
// signature: a tampered token.
func reclaim(t *testing.T, tok string, edit func(map[string]any)) string {
	parts := strings.Split(strings.TrimPrefix(tok, TokenPrefix), ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	raw, _ = json.Marshal(m)
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(raw) + "." + parts[1]
}

// TestSignedTokenRefusals: wrong algorithm, another issuer's key, another
// issuer's name, expired, tampered, truncated and garbage tokens, each
// refused with a message that says which.
func TestSignedTokenRefusals(t *testing.T) {
	k := keyOf(t, sign.MLDSA65Ed25519)
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	v := &Verifier{Signers: sign.NewTrustSet(k.Public()), Issuer: "knhk", Audience: "", Now: func() time.Time { return now }}
	good, err := IssueSigned(k, "knhk", "", Principal{Subject: "ops", Tenant: "acme", Role: RoleViewer}, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	other, err := sign.Generate(sign.MLDSA65Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	otherTok, _ := IssueSigned(other, "knhk", "", Principal{Subject: "ops", Tenant: "acme", Role: RoleAdmin}, time.Hour, now)
	otherIss, _ := IssueSigned(k, "evil", "", Principal{Subject: "ops", Tenant: "acme", Role: RoleAdmin}, time.Hour, now)
	expired, _ := IssueSigned(k, "knhk", "", Principal{Subject: "ops", Tenant: "acme", Role: RoleAdmin}, time.Hour, now.Add(-2*time.Hour))
	future, _ := IssueSigned(k, "knhk", "", Principal{Subject: "ops", Tenant: "acme", Role: RoleAdmin}, time.Hour, now.Add(time.Hour))
	// An Ed25519 key of the same trust set may not sign knhk tokens, nor
	// can a token claim another algorithm for the composite key.
	ed := keyOf(t, sign.Ed25519)
	if _, err := IssueSigned(ed, "knhk", "", Principal{Tenant: "acme", Role: RoleAdmin}, time.Hour, now); err == nil || !strings.Contains(err.Error(), "mldsa65-ed25519") {
		t.Errorf("issue with ed25519: %v", err)
	}
	for name, c := range map[string]struct{ tok, msg string }{
		"wrong algorithm":   {reclaim(t, good, func(m map[string]any) { m["alg"] = "ed25519" }), `signed with algorithm "ed25519"`},
		"untrusted key":     {otherTok, "not a trusted key"},
		"other issuer":      {otherIss, `issuer "evil", want "knhk"`},
		"expired":           {expired, "expired at 2026-12-02T09:00:00Z"},
		"issued in future":  {future, "issued in the future"},
		"tampered role":     {reclaim(t, good, func(m map[string]any) { m["role"] = "admin" }), "tampered"},
		"tampered tenant":   {reclaim(t, good, func(m map[string]any) { m["tenant"] = "beta" }), "tampered"},
		"unknown claim":     {reclaim(t, good, func(m map[string]any) { m["admin"] = true }), `unknown field "admin"`},
		"truncated":         {good[:len(good)-10], "truncated"},
		"no signature":      {strings.Join(strings.Split(good, ".")[:2], "."), "want knhk1.CLAIMS.SIGNATURE"},
		"extra part":        {good + ".x", "want knhk1.CLAIMS.SIGNATURE"},
		"bad base64 claims": {TokenPrefix + "!!!." + strings.Split(good, ".")[2], "claims"},
		"flipped signature": {good[:len(good)-5] + flip(good[len(good)-5]) + good[len(good)-4:], "tampered"},
	} {
		_, err := v.Verify(c.tok)
		if err == nil || !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want %q", name, err, c.msg)
		}
	}
	// A verifier with only JWT keys refuses knhk tokens.
	if _, err := (&Verifier{}).Verify(good); err == nil || !strings.Contains(err.Error(), "not a trusted key") {
		t.Errorf("no signers: %v", err)
	}
	// Issuers: a knhk token of an issuer not listed.
	is := &Issuers{ByIssuer: map[string]*Verifier{"knhk": v}}
	if _, err := is.Verify(otherIss); err == nil || !strings.Contains(err.Error(), `issuer "evil" are not accepted`) {
		t.Errorf("Issuers, other issuer: %v", err)
	}
	// An audience, when required.
	va := *v
	va.Audience = "prod"
	if _, err := va.Verify(good); err == nil || !strings.Contains(err.Error(), `audience "", want "prod"`) {
		t.Errorf("audience: %v", err)
	}
	aud, _ := IssueSigned(k, "knhk", "prod", Principal{Tenant: "acme", Role: RoleViewer}, time.Hour, now)
	if _, err := va.Verify(aud); err != nil {
		t.Errorf("audience prod: %v", err)
	}
}

func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

// BenchmarkVerify compares the offline verification of a knhk token
// (ML-DSA-65 and Ed25519 both) with that of an EdDSA JWT, in the same
// run; knhk serve verifies a token once a minute at most (its cache).
func BenchmarkVerify(b *testing.B) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	p := Principal{Subject: "s", Tenant: "acme", Role: RoleOperator}
	k := keyOf(b, sign.MLDSA65Ed25519)
	ktok, err := IssueSigned(k, "knhk", "", p, time.Hour, now)
	if err != nil {
		b.Fatal(err)
	}
	ed := ed25519.NewKeyFromSeed(make([]byte, 32))
	id, _ := KeyID(ed.Public())
	jtok, err := Issue(ed, "knhk", p, time.Hour, now)
	if err != nil {
		b.Fatal(err)
	}
	v := &Verifier{Keys: []Key{{ID: id, Pub: ed.Public()}}, Signers: sign.NewTrustSet(k.Public()), Issuer: "knhk", Now: func() time.Time { return now }}
	for _, c := range []struct{ name, tok string }{{"jwt", jtok}, {"knhk", ktok}} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := v.Verify(c.tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
