// This file implements the licence payload, its encoding and its
// signature.

package license

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/knhk/knhk/runtime/sign"
)

// Version is the version of the licence payload this package writes and
// reads.
const Version = 1

// BlockType is the PEM block type of a licence payload.
const BlockType = "KNHK LICENSE"

// Domain is the signing domain of licences: a licence signature never
// verifies as a descriptor or checkpoint signature, nor the other way.
const Domain sign.Domain = "license/v1"

// Alg is the only algorithm a licence is signed with: a licence is
// meant to outlive classical signatures, so both components of the
// composite must be broken to forge one.
const Alg = sign.MLDSA65Ed25519

// Payload is what a licence says. It is encoded as JSON with the fields
// in this order and no white space; the signature covers those bytes.
type Payload struct {
	Version  int    `json:"version"`
	ID       string `json:"id"`       // unique per licence issued (random hex)
	Customer string `json:"customer"` // who the licence is for
	// Tenant is the tenant of a multi-tenant deployment the licence
	// applies to; empty for the whole deployment.
	Tenant  string    `json:"tenant,omitempty"`
	Tier    string    `json:"tier"`
	Limits  Limits    `json:"limits"`
	Issued  time.Time `json:"issued"`
	Expires time.Time `json:"expires"`
}

// License is a decoded licence: its payload, the payload's bytes as
// signed, and the signature.
type License struct {
	Payload
	Raw []byte          // the payload as signed
	Sig *sign.Signature // over Subject(Raw)
}

// Subject is what the signature of payload bytes raw signs: their
// SHA-256 in hex.
func Subject(raw []byte) string { return sign.EnvelopeSubject(raw) }

// envelope is the licence file: the payload in a KNHK LICENSE block and
// its one signature. A payload is a few hundred bytes and a composite
// signature block about 5 KiB.
var envelope = sign.Envelope{BlockType: BlockType, Version: Version, Domain: Domain, Max: 64 << 10, Noun: "licence", File: "licence file"}

// Issue signs p with k and returns the licence file. k must be a
// composite mldsa65-ed25519 key.
func Issue(k *sign.PrivateKey, p Payload) ([]byte, error) {
	if k.Algorithm() != Alg {
		return nil, fmt.Errorf("licences are signed with an %s key, not %s (knhk keygen --alg %s)", Alg, k.Algorithm(), Alg)
	}
	p.Version = Version
	if err := p.check(); err != nil {
		return nil, err
	}
	raw, err := json.Marshal(&p)
	if err != nil {
		return nil, err
	}
	return envelope.Seal(k, raw)
}

// check reports a payload that no runtime should accept.
func (p *Payload) check() error {
	switch {
	case p.Version != Version:
		return fmt.Errorf("licence version %d; this knhk reads version %d", p.Version, Version)
	case p.ID == "":
		return errors.New("licence has no id")
	case p.Customer == "":
		return errors.New("licence names no customer")
	case p.Tier == "":
		return errors.New("licence names no tier")
	case p.Issued.IsZero() || p.Expires.IsZero():
		return errors.New("licence has no issue or expiry time")
	case !p.Expires.After(p.Issued):
		return fmt.Errorf("licence expires (%s) before it is issued (%s)", p.Expires.Format(time.RFC3339), p.Issued.Format(time.RFC3339))
	}
	return p.Limits.check()
}

// Parse decodes a licence file. It checks the form and the payload, and
// that the signature is over this payload, but not who signed it: that
// is [License.Verify].
func Parse(b []byte) (*License, error) {
	var p Payload
	raw, s, err := envelope.Open(b, &p, p.check)
	if err != nil {
		return nil, err
	}
	return &License{Payload: p, Raw: raw, Sig: s}, nil
}

// Verify checks that l is signed with the composite algorithm by a key
// of trust. A licence signed by another key, with another algorithm or
// whose signature does not verify is an error saying which.
func (l *License) Verify(trust *sign.TrustSet) error {
	if l.Sig.Alg != Alg {
		return fmt.Errorf("licence is signed with %s; licences must be signed with %s", l.Sig.Alg, Alg)
	}
	pub := trust.Key(l.Sig.KeyID)
	if pub == nil {
		return fmt.Errorf("licence is signed by key %s, which is not a trusted issuer key", l.Sig.KeyID)
	}
	if err := l.Sig.Verify(pub); err != nil {
		return fmt.Errorf("licence signature by key %s: %w", l.Sig.KeyID, err)
	}
	return nil
}
