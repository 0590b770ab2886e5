// This file implements the offline verification of bearer tokens.

package auth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/knhk/knhk/runtime/sign"
)

// DefaultTenant is the tenant of the static --token-file token and of a
// server without tenants.
const DefaultTenant = "default"

// ErrUnauthenticated is wrapped by every error of [Verifier.Verify].
var ErrUnauthenticated = errors.New("unauthenticated")

// Claims are a knhk token's claims: the registered ones plus the tenant
// and the role.
type Claims struct {
	jwt.RegisteredClaims
	Tenant string `json:"tenant"`
	Role   string `json:"role"`
	// Once makes the token good for one call (replay.go); it needs a jti.
	Once bool `json:"once,omitempty"`
}

// Key is a public key tokens may be signed with, and its id (the kid
// header a token may name it by).
type Key struct {
	ID  string
	Pub crypto.PublicKey
}

// KeyID returns the id of pub: the first 16 hex digits of the SHA-256 of
// its PKIX encoding.
func KeyID(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:8]), nil
}

// ParseKeys reads the PEM "PUBLIC KEY" blocks of b (Ed25519, ECDSA or
// RSA); name is for messages.
func ParseKeys(name string, b []byte) ([]Key, error) {
	var keys []Key
	for n := 1; ; n++ {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("%s: block %d is %q, want PUBLIC KEY", name, n, blk.Type)
		}
		pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: block %d: %w", name, n, err)
		}
		switch pub.(type) {
		case ed25519.PublicKey, *ecdsa.PublicKey, *rsa.PublicKey:
		default:
			return nil, fmt.Errorf("%s: block %d: unsupported key type %T", name, n, pub)
		}
		id, err := KeyID(pub)
		if err != nil {
			return nil, fmt.Errorf("%s: block %d: %w", name, n, err)
		}
		keys = append(keys, Key{ID: id, Pub: pub})
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: no PEM PUBLIC KEY block", name)
	}
	return keys, nil
}

// Verifier checks bearer tokens. The zero Verifier accepts nothing.
type Verifier struct {
	// Keys are the public keys a JWT may be signed with.
	Keys []Key
	// Signers are the composite keys a knhk token (ktoken.go) may be
	// signed with.
	Signers *sign.TrustSet
	// Issuer, when set, must equal the token's iss; Audience, when set,
	// must be among its aud.
	Issuer, Audience string
	// Static, when not empty, is the --token-file token: an admin of
	// DefaultTenant.
	Static string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Verify returns the principal token speaks for. A JWT must be signed
// with one of v.Keys by EdDSA, ES256 or RS256 (never "none" or HMAC, so a
// public key cannot be used as a shared secret), carry exp, a tenant and
// a known role, and match Issuer and Audience when they are set.
func (v *Verifier) Verify(token string) (Principal, error) {
	if v.Static != "" && subtle.ConstantTimeCompare([]byte(token), []byte(v.Static)) == 1 {
		return Principal{Subject: "static", Tenant: DefaultTenant, Role: RoleAdmin}, nil
	}
	if strings.HasPrefix(token, TokenPrefix) {
		return v.verifySigned(token)
	}
	if len(v.Keys) == 0 {
		return Principal{}, fmt.Errorf("%w: wrong bearer token", ErrUnauthenticated)
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{"EdDSA", "ES256", "RS256"}),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(tokenLeeway),
	}
	if v.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(v.Issuer))
	}
	if v.Audience != "" {
		opts = append(opts, jwt.WithAudience(v.Audience))
	}
	if v.Now != nil {
		opts = append(opts, jwt.WithTimeFunc(v.Now))
	}
	var c Claims
	_, err := jwt.ParseWithClaims(token, &c, v.keyFunc, opts...)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	if c.Tenant == "" {
		return Principal{}, fmt.Errorf("%w: the token has no tenant claim", ErrUnauthenticated)
	}
	if c.Once && c.ID == "" {
		return Principal{}, fmt.Errorf("%w: a one-time token without a jti", ErrUnauthenticated)
	}
	role, err := ParseRole(c.Role)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	p := Principal{Subject: c.Subject, Tenant: c.Tenant, Role: role, ID: c.ID, Once: c.Once, Expires: c.ExpiresAt.Time}
	if c.IssuedAt != nil {
		p.Issued = c.IssuedAt.Time
	}
	return p, nil
}

// keyFunc picks the key a token's kid names, or, without a kid, offers
// every key whose type fits the token's algorithm.
func (v *Verifier) keyFunc(t *jwt.Token) (any, error) {
	kid, _ := t.Header["kid"].(string)
	var set jwt.VerificationKeySet
	for _, k := range v.Keys {
		if kid != "" && k.ID != kid {
			continue
		}
		ok := false
		switch k.Pub.(type) {
		case ed25519.PublicKey:
			ok = t.Method.Alg() == "EdDSA"
		case *ecdsa.PublicKey:
			ok = t.Method.Alg() == "ES256"
		case *rsa.PublicKey:
			ok = t.Method.Alg() == "RS256"
		}
		if ok {
			set.Keys = append(set.Keys, k.Pub)
		}
	}
	if len(set.Keys) == 0 {
		if kid != "" {
			return nil, fmt.Errorf("no configured key has id %q", kid)
		}
		return nil, fmt.Errorf("no configured key for algorithm %s", t.Method.Alg())
	}
	return set, nil
}

// Issue signs a token for p with the Ed25519 key priv, valid for ttl,
// naming issuer and the key's id. p.ID, when set, is its jti; p.Once
// makes it a one-time token (a jti is made when p.ID is empty).
func Issue(priv ed25519.PrivateKey, issuer string, p Principal, ttl time.Duration, now time.Time) (string, error) {
	if p.Tenant == "" || p.Role == RoleNone {
		return "", errors.New("a token needs a tenant and a role")
	}
	kid, err := KeyID(priv.Public())
	if err != nil {
		return "", err
	}
	if p.Once && p.ID == "" {
		p.ID = NewTokenID()
	}
	c := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   p.Subject,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			ID:        p.ID,
		},
		Tenant: p.Tenant,
		Role:   p.Role.String(),
		Once:   p.Once,
	}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	t.Header["kid"] = kid
	return t.SignedString(priv)
}

// NewTokenID returns a random token id: 16 bytes in hex.
func NewTokenID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
