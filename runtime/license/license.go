// This file implements the licence payload, its encoding and its
// signature.

package license

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
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
func Subject(raw []byte) string {
	h := sha256.Sum256(raw)
	return hex.EncodeToString(h[:])
}

// maxFile bounds a licence file: a payload is a few hundred bytes and a
// composite signature block about 5 KiB.
const maxFile = 64 << 10

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
	s, err := sign.NewSignature(k, Domain, Subject(raw))
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := pem.Encode(&b, &pem.Block{Type: BlockType, Headers: map[string]string{"Version": fmt.Sprint(Version)}, Bytes: raw}); err != nil {
		return nil, err
	}
	b.Write(sign.MarshalSignatures(s))
	return b.Bytes(), nil
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
	if len(b) > maxFile {
		return nil, fmt.Errorf("licence file is more than %d bytes", maxFile)
	}
	blk, rest := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("not a licence file: no " + BlockType + " block")
	}
	if blk.Type != BlockType {
		return nil, fmt.Errorf("not a licence file: a %s block where a %s block should be", blk.Type, BlockType)
	}
	if v := blk.Headers["Version"]; v != fmt.Sprint(Version) {
		return nil, fmt.Errorf("licence version %q; this knhk reads version %d", v, Version)
	}
	var p Payload
	d := json.NewDecoder(bytes.NewReader(blk.Bytes))
	d.DisallowUnknownFields()
	if err := d.Decode(&p); err != nil {
		return nil, fmt.Errorf("bad licence payload: %w", err)
	}
	if d.More() {
		return nil, errors.New("bad licence payload: data after the JSON object")
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	sigs, err := sign.ParseSignatures(rest)
	if err != nil {
		return nil, fmt.Errorf("licence signature: %w", err)
	}
	if len(sigs) != 1 {
		return nil, fmt.Errorf("licence carries %d signatures; want one", len(sigs))
	}
	s := sigs[0]
	if s.Domain != Domain {
		return nil, fmt.Errorf("licence signature is for %s, not %s", s.Domain, Domain)
	}
	if s.Subject != Subject(blk.Bytes) {
		return nil, fmt.Errorf("licence is tampered: its signature is for payload %s, the payload is %s", s.Subject, Subject(blk.Bytes))
	}
	return &License{Payload: p, Raw: blk.Bytes, Sig: s}, nil
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
