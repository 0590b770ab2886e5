package auth

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
)

// TestEveryMethodHasARole walks the API's service descriptor: a method
// added to api/knhk/v1 without an entry in MethodRoles fails here, and
// Required refuses it meanwhile.
func TestEveryMethodHasARole(t *testing.T) {
	svc := knhkv1.File_knhk_v1_knhk_proto.Services().ByName("KnhkService")
	if svc == nil {
		t.Fatal("no KnhkService in the descriptor")
	}
	ms := svc.Methods()
	seen := map[string]bool{}
	for i := 0; i < ms.Len(); i++ {
		name := string(ms.Get(i).Name())
		seen[name] = true
		role, ok := MethodRoles[name]
		if !ok || role == RoleNone {
			t.Errorf("method %s has no least role in MethodRoles", name)
		}
		r := httptest.NewRequest("POST", ServicePath+name, nil)
		if got, ok := Required(r); !ok || got != role {
			t.Errorf("Required(%s) = %v, %v; want %v", name, got, ok, role)
		}
	}
	for name := range MethodRoles {
		if !seen[name] {
			t.Errorf("MethodRoles names %s, which the service does not have", name)
		}
	}
	if _, ok := Required(httptest.NewRequest("POST", ServicePath+"Nope", nil)); ok {
		t.Error("an unknown method is allowed")
	}
	if got, ok := Required(httptest.NewRequest("GET", "/console/api/case?id=x", nil)); !ok || got != RoleViewer {
		t.Errorf("console api: %v %v", got, ok)
	}
	if MethodRoles["Deploy"] <= MethodRoles["StartCase"] || MethodRoles["StartCase"] <= MethodRoles["GetCase"] {
		t.Error("roles out of order: deploy must need more than start, start more than get")
	}
}

func TestParseRole(t *testing.T) {
	for _, r := range []Role{RoleViewer, RoleOperator, RoleDeployer, RoleAdmin} {
		got, err := ParseRole(r.String())
		if err != nil || got != r {
			t.Errorf("ParseRole(%s) = %v, %v", r, got, err)
		}
	}
	if _, err := ParseRole("root"); err == nil || !strings.Contains(err.Error(), `"root"`) {
		t.Errorf("ParseRole(root): %v", err)
	}
}

func pemOf(t *testing.T, pub any) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func TestVerify(t *testing.T) {
	now := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	otherPub, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	keys, err := ParseKeys("keys.pem", append(pemOf(t, pub), pemOf(t, &ec.PublicKey)...))
	if err != nil || len(keys) != 2 {
		t.Fatalf("ParseKeys: %v %d", err, len(keys))
	}
	v := &Verifier{Keys: keys, Issuer: "knhk", Static: "s3cret", Now: func() time.Time { return now }}
	p := Principal{Subject: "alice", Tenant: "acme", Role: RoleDeployer}

	good, err := Issue(priv, "knhk", p, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := v.Verify(good); err != nil || !same(got, p) {
		t.Fatalf("Verify(good) = %+v, %v", got, err)
	}
	if got, err := v.Verify("s3cret"); err != nil || got.Role != RoleAdmin || got.Tenant != DefaultTenant {
		t.Fatalf("Verify(static) = %+v, %v", got, err)
	}
	// ES256 without a kid: the key is found by its type.
	esTok, _ := jwt.NewWithClaims(jwt.SigningMethodES256, Claims{RegisteredClaims: jwt.RegisteredClaims{Issuer: "knhk", ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute))}, Tenant: "beta", Role: "viewer"}).SignedString(ec)
	if got, err := v.Verify(esTok); err != nil || got.Tenant != "beta" || got.Role != RoleViewer {
		t.Fatalf("Verify(ES256) = %+v, %v", got, err)
	}

	claims := func(mod func(*Claims)) Claims {
		c := Claims{RegisteredClaims: jwt.RegisteredClaims{Issuer: "knhk", Subject: "x", ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour))}, Tenant: "acme", Role: "admin"}
		mod(&c)
		return c
	}
	sign := func(c Claims, key any, m jwt.SigningMethod) string {
		s, err := jwt.NewWithClaims(m, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	parts := strings.Split(good, ".")
	payload, _ := jwt.NewParser().DecodeSegment(parts[1])
	forged := strings.Replace(string(payload), `"deployer"`, `"admin"`, 1)
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(forged))
	bad := map[string]struct{ tok, want string }{
		"expired":         {sign(claims(func(c *Claims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Hour)) }), priv, jwt.SigningMethodEdDSA), "expired"},
		"no exp":          {sign(claims(func(c *Claims) { c.ExpiresAt = nil }), priv, jwt.SigningMethodEdDSA), "exp"},
		"other issuer":    {sign(claims(func(c *Claims) { c.Issuer = "evil" }), priv, jwt.SigningMethodEdDSA), "iss"},
		"other key":       {sign(claims(func(c *Claims) {}), otherPriv, jwt.SigningMethodEdDSA), "signature"},
		"hmac with pub":   {sign(claims(func(c *Claims) {}), []byte(pub), jwt.SigningMethodHS256), "signing method HS256 is invalid"},
		"none":            {sign(claims(func(c *Claims) {}), jwt.UnsafeAllowNoneSignatureType, jwt.SigningMethodNone), "signing method none is invalid"},
		"no tenant":       {sign(claims(func(c *Claims) { c.Tenant = "" }), priv, jwt.SigningMethodEdDSA), "no tenant"},
		"bad role":        {sign(claims(func(c *Claims) { c.Role = "root" }), priv, jwt.SigningMethodEdDSA), `unknown role "root"`},
		"role escalation": {strings.Join(parts, "."), "signature"},
		"garbage":         {"not.a.jwt", "malformed"},
		"empty":           {"", "malformed"},
	}
	_ = otherPub
	for name, c := range bad {
		_, err := v.Verify(c.tok)
		if err == nil || !errors.Is(err, ErrUnauthenticated) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Verify = %v, want an unauthenticated error containing %q", name, err, c.want)
		}
	}
	// A kid that names no configured key is refused even if the key set
	// holds another key of the same type.
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims(func(c *Claims) {}))
	tok.Header["kid"] = "0000000000000000"
	s, _ := tok.SignedString(priv)
	if _, err := v.Verify(s); err == nil || !strings.Contains(err.Error(), "no configured key has id") {
		t.Errorf("unknown kid: %v", err)
	}
	if _, err := (&Verifier{}).Verify(good); err == nil {
		t.Error("the zero Verifier accepted a token")
	}
}

func TestParseKeysErrors(t *testing.T) {
	for in, want := range map[string]string{
		"": "no PEM PUBLIC KEY block",
		"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n": `block 1 is "PRIVATE KEY"`,
		"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n":   "block 1",
	} {
		if _, err := ParseKeys("k.pem", []byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseKeys(%q) = %v, want %q", in, err, want)
		}
	}
}

func TestIssuers(t *testing.T) {
	now := time.Now()
	pubA, privA, _ := ed25519.GenerateKey(rand.Reader)
	pubB, privB, _ := ed25519.GenerateKey(rand.Reader)
	ka, _ := ParseKeys("a", pemOf(t, pubA))
	kb, _ := ParseKeys("b", pemOf(t, pubB))
	is := &Issuers{Static: "tok", ByIssuer: map[string]*Verifier{
		"knhk":        {Keys: ka, Issuer: "knhk"},
		"https://idp": {Keys: kb, Issuer: "https://idp", Audience: "knhk"},
	}}
	p := Principal{Subject: "s", Tenant: "acme", Role: RoleOperator}
	a, _ := Issue(privA, "knhk", p, time.Hour, now)
	if got, err := is.Verify(a); err != nil || !same(got, p) {
		t.Fatalf("knhk token: %v %v", got, err)
	}
	// Signed by the idp's key, claiming the other issuer: refused.
	b, _ := Issue(privB, "knhk", p, time.Hour, now)
	if _, err := is.Verify(b); err == nil || !strings.Contains(err.Error(), "no configured key has id") {
		t.Errorf("idp key as knhk: %v", err)
	}
	// The idp's issuer needs its audience.
	c, _ := Issue(privB, "https://idp", p, time.Hour, now)
	if _, err := is.Verify(c); err == nil || !strings.Contains(err.Error(), "aud") {
		t.Errorf("no audience: %v", err)
	}
	d, _ := Issue(privA, "https://evil", p, time.Hour, now)
	if _, err := is.Verify(d); err == nil || !strings.Contains(err.Error(), `issuer "https://evil" are not accepted`) {
		t.Errorf("unknown issuer: %v", err)
	}
	if got, err := is.Verify("tok"); err != nil || got.Role != RoleAdmin {
		t.Errorf("static: %v %v", got, err)
	}
}

// same reports whether got names p's subject, tenant and role.
func same(got, p Principal) bool {
	return got.Subject == p.Subject && got.Tenant == p.Tenant && got.Role == p.Role
}
