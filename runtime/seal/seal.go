// This file implements sealing keys, sealing and opening.

package seal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/cloudflare/circl/kem/xwing"
)

// Prefix starts every sealed value.
const Prefix = "knhk-sealed:v1:"

// The PEM block types of sealing key files.
const (
	PrivateKeyType = "KNHK SEAL PRIVATE KEY"
	PublicKeyType  = "KNHK SEAL PUBLIC KEY"
	// Algorithm is the KEM's name in key files.
	Algorithm = "xwing"
)

const (
	idSize    = 16
	nonceSize = 12
	// overhead is what sealing adds to a value before base64.
	overhead = idSize + xwing.CiphertextSize + nonceSize + 16
)

// ErrWrongKey is returned (wrapped) when a sealed value is for another
// key.
var ErrWrongKey = errors.New("sealed for another key")

// PublicKey is a recipient's X-Wing public key.
type PublicKey struct{ raw []byte }

// PrivateKey is an X-Wing private key (its 32-byte seed).
type PrivateKey struct {
	seed []byte
	sk   []byte // circl's packed private key
	pub  *PublicKey
}

// GenerateKey returns a new sealing key.
func GenerateKey() (*PrivateKey, error) {
	seed := make([]byte, xwing.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, err
	}
	return fromSeed(seed)
}

func fromSeed(seed []byte) (k *PrivateKey, err error) {
	if len(seed) != xwing.SeedSize {
		return nil, fmt.Errorf("xwing private key is %d bytes, want %d (truncated?)", len(seed), xwing.SeedSize)
	}
	defer recoverTo(&err)
	sk, pk := xwing.DeriveKeyPairPacked(seed)
	return &PrivateKey{seed: append([]byte(nil), seed...), sk: sk, pub: &PublicKey{raw: pk}}, nil
}

func recoverTo(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("xwing: %v", r)
	}
}

// Public returns k's public key.
func (k *PrivateKey) Public() *PublicKey { return k.pub }

// ID returns the key id: the first 16 bytes, in hex, of SHA-256 of
// "xwing", a NUL and the public key.
func (k *PublicKey) ID() string { return hex.EncodeToString(k.id()) }

func (k *PublicKey) id() []byte {
	h := sha256.New()
	h.Write([]byte(Algorithm))
	h.Write([]byte{0})
	h.Write(k.raw)
	return h.Sum(nil)[:idSize]
}

// ID returns the id of k's public key.
func (k *PrivateKey) ID() string { return k.pub.ID() }

// aad is the additional data of the AEAD: the format, the recipient and
// the KEM ciphertext.
func aad(id, ct []byte) []byte {
	b := append([]byte(Prefix), id...)
	return append(b, ct...)
}

func gcm(key []byte) (cipher.AEAD, error) {
	blk, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(blk)
}

// Seal encrypts plaintext for k and returns the sealed text.
func (k *PublicKey) Seal(plaintext []byte) (s string, err error) {
	defer recoverTo(&err)
	seed := make([]byte, xwing.EncapsulationSeedSize)
	if _, err := rand.Read(seed); err != nil {
		return "", err
	}
	ss, ct, err := xwing.Encapsulate(k.raw, seed)
	if err != nil {
		return "", fmt.Errorf("xwing: %w", err)
	}
	a, err := gcm(ss)
	if err != nil {
		return "", err
	}
	id := k.id()
	out := make([]byte, 0, overhead+len(plaintext))
	out = append(out, id...)
	out = append(out, ct...)
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	out = append(out, nonce...)
	out = a.Seal(out, nonce, plaintext, aad(id, ct))
	return Prefix + base64.RawURLEncoding.EncodeToString(out), nil
}

// IsSealed reports whether s looks like a sealed value.
func IsSealed(s string) bool { return strings.HasPrefix(s, Prefix) }

// Open decrypts a sealed value. A value for another key wraps
// [ErrWrongKey]; a changed or cut one says it does not open.
func (k *PrivateKey) Open(sealed string) (pt []byte, err error) {
	if !IsSealed(sealed) {
		return nil, fmt.Errorf("not a sealed value (no %q prefix)", Prefix)
	}
	b, err := base64.RawURLEncoding.DecodeString(sealed[len(Prefix):])
	if err != nil {
		return nil, fmt.Errorf("sealed value is damaged: %v", err)
	}
	if len(b) < overhead {
		return nil, fmt.Errorf("sealed value is %d bytes, at least %d expected (truncated?)", len(b), overhead)
	}
	id, ct, nonce, body := b[:idSize], b[idSize:idSize+xwing.CiphertextSize], b[idSize+xwing.CiphertextSize:idSize+xwing.CiphertextSize+nonceSize], b[idSize+xwing.CiphertextSize+nonceSize:]
	if !bytes.Equal(id, k.pub.id()) {
		return nil, fmt.Errorf("%w: key %s, not %s", ErrWrongKey, hex.EncodeToString(id), k.ID())
	}
	defer recoverTo(&err)
	ss := xwing.Decapsulate(ct, k.sk)
	a, err := gcm(ss)
	if err != nil {
		return nil, err
	}
	pt, err = a.Open(nil, nonce, body, aad(id, ct))
	if err != nil {
		return nil, errors.New("sealed value does not open: it was changed, or sealed for another key")
	}
	return pt, nil
}

// MarshalPEM returns k as a private key file (write it with mode 0600).
func (k *PrivateKey) MarshalPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: PrivateKeyType, Headers: map[string]string{"Algorithm": Algorithm, "Key-Id": k.ID()}, Bytes: k.seed})
}

// MarshalPEM returns k as a public key file.
func (k *PublicKey) MarshalPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: PublicKeyType, Headers: map[string]string{"Algorithm": Algorithm, "Key-Id": k.ID()}, Bytes: k.raw})
}

// block decodes the one PEM block of a sealing key file.
func block(b []byte) (*pem.Block, error) {
	trimmed := bytes.TrimSpace(b)
	if !bytes.HasPrefix(trimmed, []byte("-----BEGIN ")) {
		return nil, errors.New("not a knhk key file (no -----BEGIN line at its start)")
	}
	blk, rest := pem.Decode(trimmed)
	if blk == nil {
		return nil, errors.New("the key is truncated or damaged (no matching -----END line, or its base64 does not decode)")
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("stray text after the key")
	}
	switch blk.Type {
	case PrivateKeyType, PublicKeyType:
	case "KNHK PRIVATE KEY", "KNHK PUBLIC KEY":
		return nil, errors.New("this is a signing key, not a sealing key (make one with knhk keygen --alg xwing)")
	default:
		return nil, fmt.Errorf("a %q block is not a knhk sealing key", blk.Type)
	}
	if a := blk.Headers["Algorithm"]; a != Algorithm {
		return nil, fmt.Errorf("sealing key algorithm %q, want %q", a, Algorithm)
	}
	return blk, nil
}

func checkID(blk *pem.Block, id string) error {
	if h, ok := blk.Headers["Key-Id"]; ok && h != id {
		return fmt.Errorf("the Key-Id header says %s but the key's id is %s: the file is damaged", h, id)
	}
	return nil
}

// ParsePrivateKey decodes a sealing private key file.
func ParsePrivateKey(b []byte) (*PrivateKey, error) {
	blk, err := block(b)
	if err != nil {
		return nil, err
	}
	if blk.Type == PublicKeyType {
		return nil, errors.New("this is a sealing public key: opening needs the private key (the file keygen wrote without .pub)")
	}
	k, err := fromSeed(blk.Bytes)
	if err != nil {
		return nil, err
	}
	return k, checkID(blk, k.ID())
}

// ParsePublicKey decodes a sealing public key file, or the public half
// of a private key file.
func ParsePublicKey(b []byte) (*PublicKey, error) {
	blk, err := block(b)
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
	if len(blk.Bytes) != xwing.PublicKeySize {
		return nil, fmt.Errorf("xwing public key is %d bytes, want %d (truncated?)", len(blk.Bytes), xwing.PublicKeySize)
	}
	k := &PublicKey{raw: append([]byte(nil), blk.Bytes...)}
	return k, checkID(blk, k.ID())
}
