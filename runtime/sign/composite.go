// This file implements the composite mldsa65-ed25519 algorithm after
// draft-ietf-lamps-pq-composite-sigs (Composite ML-DSA, the
// MLDSA65-Ed25519-SHA512 combination). circl has no such composite: its
// eddilithium schemes combine pre-standard Dilithium, not FIPS 204
// ML-DSA, so the composite is built here from circl's ML-DSA-65 and
// Ed25519.
//
// Keys and signatures are the concatenations the draft specifies, ML-DSA
// first: public key = ML-DSA-65 public key || Ed25519 public key, private
// key = ML-DSA-65 seed || Ed25519 seed, signature = ML-DSA-65 signature ||
// Ed25519 signature. Both components sign the same representative
// message M' = Prefix || Label || len(ctx) || ctx || SHA-512(M), ML-DSA
// with Label as its context string; both must verify.

package sign

import (
	"crypto/sha512"
	"fmt"

	"github.com/cloudflare/circl/sign/ed25519"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
)

const (
	// compositePrefix is the draft's fixed prefix of every composite
	// signature's message.
	compositePrefix = "CompositeAlgorithmSignatures2025"
	// compositeLabel is the draft's label of MLDSA65-Ed25519-SHA512; it
	// binds a signature to this combination.
	compositeLabel = "COMPSIG-MLDSA65-Ed25519-SHA512"

	compositePubSize  = mldsa65.PublicKeySize + ed25519.PublicKeySize
	compositeSeedSize = mldsa65.SeedSize + ed25519.SeedSize
	compositeSigSize  = mldsa65.SignatureSize + ed25519.SignatureSize
)

// compositeMessage returns M' for message m and an empty context: knhk
// separates its purposes with a [Domain] inside m instead.
func compositeMessage(m []byte) []byte {
	ph := sha512.Sum512(m)
	out := make([]byte, 0, len(compositePrefix)+len(compositeLabel)+1+len(ph))
	out = append(out, compositePrefix...)
	out = append(out, compositeLabel...)
	out = append(out, 0) // len(ctx)
	return append(out, ph[:]...)
}

type compositePublic struct {
	ml *mldsa65.PublicKey
	ed ed25519.PublicKey
}

type compositePrivate struct {
	ml *mldsa65.PrivateKey
	ed ed25519.PrivateKey
}

// newCompositePrivate derives both component keys from their seeds;
// seed has compositeSeedSize bytes.
func newCompositePrivate(seed []byte) *compositePrivate {
	var s [mldsa65.SeedSize]byte
	copy(s[:], seed[:mldsa65.SeedSize])
	_, ml := mldsa65.NewKeyFromSeed(&s)
	ed := ed25519.NewKeyFromSeed(seed[mldsa65.SeedSize:])
	return &compositePrivate{ml: ml, ed: ed}
}

func (k *compositePrivate) public() *compositePublic {
	return &compositePublic{ml: k.ml.Public().(*mldsa65.PublicKey), ed: k.ed.Public().(ed25519.PublicKey)}
}

func (k *compositePrivate) sign(m []byte) []byte {
	mp := compositeMessage(m)
	sig := make([]byte, compositeSigSize)
	if err := mldsa65.SignTo(k.ml, mp, []byte(compositeLabel), true, sig[:mldsa65.SignatureSize]); err != nil {
		return nil
	}
	copy(sig[mldsa65.SignatureSize:], ed25519.Sign(k.ed, mp))
	return sig
}

func parseCompositePublic(raw []byte) (*compositePublic, error) {
	var ml mldsa65.PublicKey
	if err := ml.UnmarshalBinary(raw[:mldsa65.PublicKeySize]); err != nil {
		return nil, fmt.Errorf("its ML-DSA-65 part: %w", err)
	}
	ed := ed25519.PublicKey(append([]byte(nil), raw[mldsa65.PublicKeySize:]...))
	return &compositePublic{ml: &ml, ed: ed}, nil
}

func (k *compositePublic) bytes() []byte {
	b := make([]byte, 0, compositePubSize)
	ml, _ := k.ml.MarshalBinary()
	b = append(b, ml...)
	return append(b, k.ed...)
}

// verify reports whether both component signatures of sig verify; sig
// has compositeSigSize bytes.
func (k *compositePublic) verify(m, sig []byte) bool {
	mp := compositeMessage(m)
	mlOK := mldsa65.Verify(k.ml, mp, []byte(compositeLabel), sig[:mldsa65.SignatureSize])
	edOK := ed25519.Verify(k.ed, mp, sig[mldsa65.SignatureSize:])
	return mlOK && edOK
}
