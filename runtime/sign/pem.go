// This file implements the PEM-style files: private keys, public keys
// and signatures (see docs/signing.md for the format).

package sign

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// The PEM block types of knhk's files.
const (
	PrivateKeyType = "KNHK PRIVATE KEY"
	PublicKeyType  = "KNHK PUBLIC KEY"
	SignatureType  = "KNHK SIGNATURE"
)

// ErrNotPrivate is returned (wrapped) when a public key is given where a
// private key is needed.
var ErrNotPrivate = errors.New("a public key where a private key is needed")

// MarshalPEM returns k as a private key file. It holds the secret: write
// it with mode 0600.
func (k *PrivateKey) MarshalPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: PrivateKeyType, Headers: map[string]string{
		"Algorithm": string(k.pub.alg), "Key-Id": k.ID()}, Bytes: k.secret})
}

// MarshalPEM returns k as a public key file.
func (k *PublicKey) MarshalPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: PublicKeyType, Headers: map[string]string{
		"Algorithm": string(k.alg), "Key-Id": k.ID()}, Bytes: k.raw})
}

// blocks decodes every PEM block of b, refusing anything but white space
// around and between them: a key file with stray text is damaged, and
// encoding/pem alone would skip that text silently.
func blocks(b []byte) ([]*pem.Block, error) {
	var out []*pem.Block
	rest := b
	for {
		trimmed := bytes.TrimLeft(rest, " \t\r\n")
		if len(trimmed) == 0 {
			break
		}
		if !bytes.HasPrefix(trimmed, []byte("-----BEGIN ")) {
			if len(out) == 0 {
				return nil, errors.New("not a knhk key or signature file (no -----BEGIN line at its start)")
			}
			return nil, fmt.Errorf("stray text after block %d", len(out))
		}
		blk, r := pem.Decode(trimmed)
		if blk == nil {
			return nil, fmt.Errorf("block %d is truncated or damaged (no matching -----END line, or its base64 does not decode)", len(out)+1)
		}
		out = append(out, blk)
		rest = r
	}
	if len(out) == 0 {
		return nil, errors.New("empty file: no key or signature in it")
	}
	return out, nil
}

// keyBlock returns the one block of a key file and its algorithm.
func keyBlock(b []byte) (*pem.Block, Algorithm, error) {
	bs, err := blocks(b)
	if err != nil {
		return nil, "", err
	}
	if len(bs) != 1 {
		return nil, "", fmt.Errorf("a key file holds one key, this one has %d blocks", len(bs))
	}
	blk := bs[0]
	if blk.Type != PrivateKeyType && blk.Type != PublicKeyType {
		return nil, "", fmt.Errorf("a %q block is not a knhk key (want %q or %q)", blk.Type, PrivateKeyType, PublicKeyType)
	}
	name, ok := blk.Headers["Algorithm"]
	if !ok {
		return nil, "", errors.New("the key has no Algorithm header")
	}
	alg, err := ParseAlgorithm(name)
	if err != nil {
		return nil, "", err
	}
	return blk, alg, nil
}

// checkID compares a file's Key-Id header with the id of the key it holds.
func checkID(blk *pem.Block, k *PublicKey) error {
	if id, ok := blk.Headers["Key-Id"]; ok && id != k.ID() {
		return fmt.Errorf("the Key-Id header says %s but the key's id is %s: the file is damaged or its Algorithm header is wrong", id, k.ID())
	}
	return nil
}

// ParsePrivateKey decodes a private key file. A public key file is an
// error wrapping [ErrNotPrivate].
func ParsePrivateKey(b []byte) (*PrivateKey, error) {
	blk, alg, err := keyBlock(b)
	if err != nil {
		return nil, err
	}
	if blk.Type == PublicKeyType {
		return nil, fmt.Errorf("this is a public %s key: %w (use the key file knhk keygen wrote, not its .pub)", alg, ErrNotPrivate)
	}
	k, err := privateFromBytes(alg, blk.Bytes)
	if err != nil {
		return nil, err
	}
	if err := checkID(blk, k.pub); err != nil {
		return nil, err
	}
	return k, nil
}

// ParsePublicKey decodes a public key file, or the public half of a
// private key file.
func ParsePublicKey(b []byte) (*PublicKey, error) {
	blk, alg, err := keyBlock(b)
	if err != nil {
		return nil, err
	}
	if blk.Type == PrivateKeyType {
		k, err := ParsePrivateKey(b)
		if err != nil {
			return nil, err
		}
		return k.pub, nil
	}
	k, err := publicFromBytes(alg, blk.Bytes)
	if err != nil {
		return nil, err
	}
	if err := checkID(blk, k); err != nil {
		return nil, err
	}
	return k, nil
}

// Signature is one detached signature: who signed (algorithm and key
// id), under which domain, the subject signed (a descriptor hash, a
// checkpoint's text) and the signature bytes.
type Signature struct {
	Alg     Algorithm
	KeyID   string
	Domain  Domain
	Subject string
	Sig     []byte
}

// NewSignature signs subject under d with k.
func NewSignature(k *PrivateKey, d Domain, subject string) (*Signature, error) {
	sig, err := k.Sign(d, []byte(subject))
	if err != nil {
		return nil, err
	}
	return &Signature{Alg: k.Algorithm(), KeyID: k.ID(), Domain: d, Subject: subject, Sig: sig}, nil
}

// Verify checks s with k: the key must be the one s names and the
// signature must verify over s's subject.
func (s *Signature) Verify(k *PublicKey) error {
	if k.ID() != s.KeyID || k.alg != s.Alg {
		return fmt.Errorf("signed by %s key %s, not by %s key %s", s.Alg, s.KeyID, k.alg, k.ID())
	}
	return k.Verify(s.Domain, []byte(s.Subject), s.Sig)
}

// MarshalSignatures encodes sigs as a signature file, one block each.
func MarshalSignatures(sigs ...*Signature) []byte {
	var buf bytes.Buffer
	for _, s := range sigs {
		buf.Write(pem.EncodeToMemory(&pem.Block{Type: SignatureType, Headers: map[string]string{
			"Algorithm": string(s.Alg), "Key-Id": s.KeyID, "Domain": string(s.Domain), "Subject": s.Subject}, Bytes: s.Sig}))
	}
	return buf.Bytes()
}

// ParseSignatures decodes a signature file: one or more signature blocks.
// It checks their form, not whether they verify.
func ParseSignatures(b []byte) ([]*Signature, error) {
	bs, err := blocks(b)
	if err != nil {
		return nil, err
	}
	out := make([]*Signature, 0, len(bs))
	for i, blk := range bs {
		if blk.Type != SignatureType {
			return nil, fmt.Errorf("block %d is a %q, not a %q", i+1, blk.Type, SignatureType)
		}
		alg, err := ParseAlgorithm(blk.Headers["Algorithm"])
		if err != nil {
			return nil, fmt.Errorf("signature %d: %w", i+1, err)
		}
		s := &Signature{Alg: alg, KeyID: blk.Headers["Key-Id"], Domain: Domain(blk.Headers["Domain"]), Subject: blk.Headers["Subject"], Sig: blk.Bytes}
		switch {
		case s.KeyID == "":
			return nil, fmt.Errorf("signature %d has no Key-Id", i+1)
		case s.Domain == "":
			return nil, fmt.Errorf("signature %d has no Domain", i+1)
		case strings.ContainsAny(s.Subject, "\r\n"):
			return nil, fmt.Errorf("signature %d has a bad Subject", i+1)
		case len(s.Sig) != alg.SignatureSize():
			return nil, fmt.Errorf("signature %d: %s signature is %d bytes, want %d (truncated?)", i+1, alg, len(s.Sig), alg.SignatureSize())
		}
		out = append(out, s)
	}
	return out, nil
}
