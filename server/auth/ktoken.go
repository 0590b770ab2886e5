// This file implements knhk's own compact tokens, signed with the
// composite ML-DSA-65+Ed25519 key of runtime/sign, beside the JWTs: a
// token that outlives classical signatures needs both ML-DSA-65 and
// Ed25519 broken to forge.
//
// A token is three dot-separated parts, like a JWT but not one:
//
//	knhk1.<claims>.<signature>
//
// claims is the base64url (no padding) of a JSON object with exactly the
// fields of [signedClaims]; signature is the base64url of the composite
// signature, under the domain [TokenDomain], of the ASCII bytes
// "knhk1." + claims. The claims name the algorithm and key id so that a
// verifier can refuse another algorithm or an untrusted key before it
// checks the signature, but neither is trusted: the key id must be one of
// the verifier's keys and the algorithm must be the composite.

package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/knhk/knhk/runtime/sign"
)

// TokenPrefix starts every knhk composite-signed token; it names the
// format's version.
const TokenPrefix = "knhk1."

// TokenDomain is the signing domain of knhk tokens: a token signature
// never verifies as a licence, descriptor or checkpoint signature.
const TokenDomain sign.Domain = "token/v1"

// TokenAlg is the only algorithm knhk tokens are signed with.
const TokenAlg = sign.MLDSA65Ed25519

// maxClaims bounds the encoded claims of a token, so that a verifier
// never decodes more than a few KiB whatever it is sent.
const maxClaims = 4096

// signedClaims are a knhk token's claims. Unknown fields are refused.
type signedClaims struct {
	Alg    string `json:"alg"`           // the signature algorithm: mldsa65-ed25519
	Kid    string `json:"kid"`           // the signing key's id (runtime/sign key id)
	Iss    string `json:"iss"`           // the issuer
	Sub    string `json:"sub,omitempty"` // the subject
	Aud    string `json:"aud,omitempty"` // the audience, when the issuer names one
	Tenant string `json:"tenant"`
	Role   string `json:"role"`
	Iat    int64  `json:"iat"`           // issued at, Unix seconds
	Exp    int64  `json:"exp"`           // expires at, Unix seconds
	Jti    string `json:"jti,omitempty"` // the token's id
	// Once makes the token good for one call: the server remembers its
	// jti until it expires and refuses it again (replay.go).
	Once bool `json:"once,omitempty"`
}

// IssueSigned signs a knhk token for p with the composite key k, valid
// for ttl from now, naming issuer (and audience when not empty). p.ID,
// when set, is the token's jti, and p.Once makes it a one-time token
// (which needs a jti: one is made when p.ID is empty).
func IssueSigned(k *sign.PrivateKey, issuer, audience string, p Principal, ttl time.Duration, now time.Time) (string, error) {
	if k.Algorithm() != TokenAlg {
		return "", fmt.Errorf("knhk tokens are signed with an %s key, not %s (knhk keygen --alg %s)", TokenAlg, k.Algorithm(), TokenAlg)
	}
	if p.Tenant == "" || p.Role == RoleNone {
		return "", errors.New("a token needs a tenant and a role")
	}
	if ttl <= 0 {
		return "", fmt.Errorf("a token's lifetime must be positive, got %v", ttl)
	}
	if p.Once && p.ID == "" {
		p.ID = NewTokenID()
	}
	c := signedClaims{Alg: string(TokenAlg), Kid: k.ID(), Iss: issuer, Sub: p.Subject, Aud: audience,
		Tenant: p.Tenant, Role: p.Role.String(), Iat: now.Unix(), Exp: now.Add(ttl).Unix(), Jti: p.ID, Once: p.Once}
	raw, err := json.Marshal(&c)
	if err != nil {
		return "", err
	}
	signed := TokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	sig, err := k.Sign(TokenDomain, []byte(signed))
	if err != nil {
		return "", err
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// parseSigned splits and decodes a knhk token without checking its
// signature: the claims, the bytes signed and the signature. Every
// error says what is wrong with the form.
func parseSigned(token string) (*signedClaims, []byte, []byte, error) {
	rest, ok := strings.CutPrefix(token, TokenPrefix)
	if !ok {
		return nil, nil, nil, errors.New("not a knhk token: no knhk1. prefix")
	}
	enc, sigEnc, ok := strings.Cut(rest, ".")
	if !ok || strings.Contains(sigEnc, ".") {
		return nil, nil, nil, errors.New("malformed knhk token: want knhk1.CLAIMS.SIGNATURE")
	}
	if len(enc) > maxClaims {
		return nil, nil, nil, fmt.Errorf("malformed knhk token: claims of %d bytes, more than %d", len(enc), maxClaims)
	}
	if want := base64.RawURLEncoding.EncodedLen(TokenAlg.SignatureSize()); len(sigEnc) != want {
		return nil, nil, nil, fmt.Errorf("malformed knhk token: signature of %d characters, want %d (truncated?)", len(sigEnc), want)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(enc)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("malformed knhk token: claims: %v", err)
	}
	sig, err := base64.RawURLEncoding.Strict().DecodeString(sigEnc)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("malformed knhk token: signature: %v", err)
	}
	var c signedClaims
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	if err := d.Decode(&c); err != nil {
		return nil, nil, nil, fmt.Errorf("malformed knhk token: claims: %v", err)
	}
	if d.More() {
		return nil, nil, nil, errors.New("malformed knhk token: data after the claims")
	}
	return &c, []byte(TokenPrefix + enc), sig, nil
}

// tokenLeeway is the clock skew allowed on exp and iat, for knhk tokens
// and JWTs alike.
const tokenLeeway = 30 * time.Second

// verifySigned checks a knhk token: its form; that it names the
// composite algorithm (else "wrong algorithm"); that its key id is one
// of v.Signers (else "not a trusted key"); its issuer and audience; its
// signature (else "tampered"); exp (required) and iat; a tenant and a
// known role.
func (v *Verifier) verifySigned(token string) (Principal, error) {
	c, signed, sig, err := parseSigned(token)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	if c.Alg != string(TokenAlg) {
		return Principal{}, fmt.Errorf("%w: knhk token signed with algorithm %q; knhk tokens must be signed with %s", ErrUnauthenticated, c.Alg, TokenAlg)
	}
	var k *sign.PublicKey
	if v.Signers != nil {
		k = v.Signers.Key(c.Kid)
	}
	if k == nil {
		return Principal{}, fmt.Errorf("%w: knhk token signed by key %q, which is not a trusted key of issuer %q", ErrUnauthenticated, c.Kid, c.Iss)
	}
	if k.Algorithm() != TokenAlg {
		return Principal{}, fmt.Errorf("%w: knhk token key %s is an %s key, not %s", ErrUnauthenticated, c.Kid, k.Algorithm(), TokenAlg)
	}
	if v.Issuer != "" && c.Iss != v.Issuer {
		return Principal{}, fmt.Errorf("%w: knhk token of issuer %q, want %q", ErrUnauthenticated, c.Iss, v.Issuer)
	}
	if v.Audience != "" && c.Aud != v.Audience {
		return Principal{}, fmt.Errorf("%w: knhk token for audience %q, want %q", ErrUnauthenticated, c.Aud, v.Audience)
	}
	if err := k.Verify(TokenDomain, signed, sig); err != nil {
		return Principal{}, fmt.Errorf("%w: knhk token tampered: %v", ErrUnauthenticated, err)
	}
	now := time.Now()
	if v.Now != nil {
		now = v.Now()
	}
	switch {
	case c.Exp == 0:
		return Principal{}, fmt.Errorf("%w: knhk token has no exp", ErrUnauthenticated)
	case now.After(time.Unix(c.Exp, 0).Add(tokenLeeway)):
		return Principal{}, fmt.Errorf("%w: knhk token expired at %s", ErrUnauthenticated, time.Unix(c.Exp, 0).UTC().Format(time.RFC3339))
	case time.Unix(c.Iat, 0).After(now.Add(tokenLeeway)):
		return Principal{}, fmt.Errorf("%w: knhk token issued in the future (%s)", ErrUnauthenticated, time.Unix(c.Iat, 0).UTC().Format(time.RFC3339))
	case c.Tenant == "":
		return Principal{}, fmt.Errorf("%w: the token has no tenant claim", ErrUnauthenticated)
	case c.Once && c.Jti == "":
		return Principal{}, fmt.Errorf("%w: a one-time knhk token without a jti", ErrUnauthenticated)
	}
	role, err := ParseRole(c.Role)
	if err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	return Principal{Subject: c.Sub, Tenant: c.Tenant, Role: role, ID: c.Jti, Once: c.Once, Expires: time.Unix(c.Exp, 0), Issued: time.Unix(c.Iat, 0)}, nil
}

// signedIssuer returns the unverified issuer of a knhk token, only to
// pick the [Verifier] that then checks everything.
func signedIssuer(token string) (string, error) {
	c, _, _, err := parseSigned(token)
	if err != nil {
		return "", err
	}
	return c.Iss, nil
}
