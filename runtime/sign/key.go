// This file implements keys: generation, signing, verification and key
// ids.

package sign

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	circl "github.com/cloudflare/circl/sign"
)

// Domain separates what a signature vouches for: the signed message is
// "knhk/" + domain + NUL + the bytes, so that a signature made for one
// purpose never verifies for another.
type Domain string

// The domains knhk signs under.
const (
	DomainDescriptor Domain = "descriptor/v1" // a compiled program's descriptor hash
	DomainCheckpoint Domain = "checkpoint/v1" // a receipt log checkpoint
)

func (d Domain) message(msg []byte) []byte {
	m := make([]byte, 0, len("knhk/")+len(d)+1+len(msg))
	m = append(m, "knhk/"...)
	m = append(m, d...)
	m = append(m, 0)
	return append(m, msg...)
}

// ErrBadSignature is returned (wrapped) by [PublicKey.Verify] for a
// signature that does not verify.
var ErrBadSignature = errors.New("signature does not verify")

// PublicKey is a public key of some [Algorithm].
type PublicKey struct {
	alg Algorithm
	raw []byte // the encoding in key files
	pk  circl.PublicKey
	cpk *compositePublic // for MLDSA65Ed25519, instead of pk
}

// PrivateKey is a private key with its public key.
type PrivateKey struct {
	pub    *PublicKey
	secret []byte // the encoding in key files: a seed or circl's encoding
	sk     circl.PrivateKey
	csk    *compositePrivate
}

// Generate returns a new key of algorithm alg from crypto/rand.
func Generate(alg Algorithm) (*PrivateKey, error) {
	if _, ok := algs[alg]; !ok {
		_, err := ParseAlgorithm(string(alg))
		return nil, err
	}
	_, n, _ := alg.sizes()
	secret := make([]byte, n)
	if !algs[alg].seeded {
		var sk circl.PrivateKey
		err := guard("generate", func() (err error) {
			_, sk, err = algs[alg].scheme.GenerateKey()
			return err
		})
		if err != nil {
			return nil, err
		}
		if secret, err = sk.MarshalBinary(); err != nil {
			return nil, err
		}
		return privateFromBytes(alg, secret)
	}
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	return privateFromBytes(alg, secret)
}

// privateFromBytes rebuilds a private key of alg from its stored form.
func privateFromBytes(alg Algorithm, secret []byte) (*PrivateKey, error) {
	_, n, _ := alg.sizes()
	if len(secret) != n {
		return nil, fmt.Errorf("%s private key is %d bytes, want %d (truncated, or a key of another algorithm)", alg, len(secret), n)
	}
	k := &PrivateKey{secret: append([]byte(nil), secret...), pub: &PublicKey{alg: alg}}
	err := guard("load private key", func() error {
		if alg == MLDSA65Ed25519 {
			k.csk = newCompositePrivate(secret)
			k.pub.cpk = k.csk.public()
			k.pub.raw = k.pub.cpk.bytes()
			return nil
		}
		s := algs[alg].scheme
		if algs[alg].seeded {
			k.pub.pk, k.sk = s.DeriveKey(secret)
		} else {
			sk, err := s.UnmarshalBinaryPrivateKey(secret)
			if err != nil {
				return err
			}
			k.sk = sk
			pk, ok := sk.Public().(circl.PublicKey)
			if !ok {
				return fmt.Errorf("%s private key has no public key", alg)
			}
			k.pub.pk = pk
		}
		raw, err := k.pub.pk.MarshalBinary()
		k.pub.raw = raw
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bad %s private key: %w", alg, err)
	}
	return k, nil
}

// publicFromBytes decodes a public key of alg.
func publicFromBytes(alg Algorithm, raw []byte) (*PublicKey, error) {
	n, _, _ := alg.sizes()
	if len(raw) != n {
		return nil, fmt.Errorf("%s public key is %d bytes, want %d (truncated, or a key of another algorithm)", alg, len(raw), n)
	}
	k := &PublicKey{alg: alg, raw: append([]byte(nil), raw...)}
	err := guard("load public key", func() (err error) {
		if alg == MLDSA65Ed25519 {
			k.cpk, err = parseCompositePublic(raw)
			return err
		}
		k.pk, err = algs[alg].scheme.UnmarshalBinaryPublicKey(raw)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bad %s public key: %w", alg, err)
	}
	return k, nil
}

// Algorithm returns k's algorithm.
func (k *PrivateKey) Algorithm() Algorithm { return k.pub.alg }

// Public returns k's public key.
func (k *PrivateKey) Public() *PublicKey { return k.pub }

// ID returns the id of k's public key.
func (k *PrivateKey) ID() string { return k.pub.ID() }

// Sign signs msg under domain d.
func (k *PrivateKey) Sign(d Domain, msg []byte) ([]byte, error) {
	m := d.message(msg)
	var sig []byte
	err := guard("sign", func() error {
		if k.csk != nil {
			sig = k.csk.sign(m)
		} else {
			sig = algs[k.pub.alg].scheme.Sign(k.sk, m, nil)
		}
		if sig == nil {
			return errors.New("the signer returned no signature")
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.pub.alg, err)
	}
	return sig, nil
}

// Algorithm returns k's algorithm.
func (k *PublicKey) Algorithm() Algorithm { return k.alg }

// Bytes returns k's encoding (the body of a public key file).
func (k *PublicKey) Bytes() []byte { return append([]byte(nil), k.raw...) }

// ID returns k's key id: the first 16 bytes, in hex, of the SHA-256 of
// the algorithm name, a NUL and the public key. The algorithm is part of
// the hash so that the same bytes read as another algorithm's key get
// another id.
func (k *PublicKey) ID() string {
	h := sha256.New()
	h.Write([]byte(k.alg))
	h.Write([]byte{0})
	h.Write(k.raw)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Equal reports whether k and o are the same key.
func (k *PublicKey) Equal(o *PublicKey) bool {
	return o != nil && k.alg == o.alg && string(k.raw) == string(o.raw)
}

// Verify checks sig over msg under domain d. A signature of the wrong
// length says so; one that does not verify wraps [ErrBadSignature].
func (k *PublicKey) Verify(d Domain, msg, sig []byte) error {
	if want := k.alg.SignatureSize(); len(sig) != want {
		return fmt.Errorf("%s signature is %d bytes, want %d (truncated?): %w", k.alg, len(sig), want, ErrBadSignature)
	}
	m := d.message(msg)
	var ok bool
	err := guard("verify", func() error {
		if k.cpk != nil {
			ok = k.cpk.verify(m, sig)
		} else {
			ok = algs[k.alg].scheme.Verify(k.pk, m, sig, nil)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w", k.alg, err)
	}
	if !ok {
		return fmt.Errorf("%s key %s: %w", k.alg, k.ID(), ErrBadSignature)
	}
	return nil
}

// guard runs f and turns a panic inside it (circl panics on keys of the
// wrong type, seeds of the wrong size and failed randomness) into an
// error, so that none reaches a user.
func guard(what string, f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s failed: %v", what, r)
		}
	}()
	return f()
}
