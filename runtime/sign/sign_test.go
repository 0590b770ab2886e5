// This file tests every algorithm end to end: generate, sign, verify,
// write and read the key files, and the ways a signature must fail.

package sign

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestAlgorithmsRoundTrip(t *testing.T) {
	msg := []byte("descriptor 0123abcd")
	for _, alg := range Algorithms() {
		t.Run(string(alg), func(t *testing.T) {
			k, err := Generate(alg)
			if err != nil {
				t.Fatal(err)
			}
			sig, err := k.Sign(DomainDescriptor, msg)
			if err != nil {
				t.Fatal(err)
			}
			if len(sig) != alg.SignatureSize() {
				t.Fatalf("signature is %d bytes, want %d", len(sig), alg.SignatureSize())
			}
			if err := k.Public().Verify(DomainDescriptor, msg, sig); err != nil {
				t.Fatalf("own signature: %v", err)
			}
			// Another domain, another message, a flipped bit, a cut
			// signature: each fails.
			if err := k.Public().Verify(DomainCheckpoint, msg, sig); !errors.Is(err, ErrBadSignature) {
				t.Errorf("other domain: got %v", err)
			}
			if err := k.Public().Verify(DomainDescriptor, append(msg, '!'), sig); !errors.Is(err, ErrBadSignature) {
				t.Errorf("other message: got %v", err)
			}
			bad := append([]byte(nil), sig...)
			bad[len(bad)/2] ^= 1
			if err := k.Public().Verify(DomainDescriptor, msg, bad); !errors.Is(err, ErrBadSignature) {
				t.Errorf("flipped bit: got %v", err)
			}
			if err := k.Public().Verify(DomainDescriptor, msg, sig[:len(sig)-1]); err == nil || !strings.Contains(err.Error(), "truncated") {
				t.Errorf("truncated: got %v", err)
			}

			// The key files read back as the same keys.
			k2, err := ParsePrivateKey(k.MarshalPEM())
			if err != nil {
				t.Fatal(err)
			}
			if !k2.Public().Equal(k.Public()) || k2.ID() != k.ID() {
				t.Fatalf("private key file: read back another key")
			}
			pub, err := ParsePublicKey(k.Public().MarshalPEM())
			if err != nil {
				t.Fatal(err)
			}
			if err := pub.Verify(DomainDescriptor, msg, sig); err != nil {
				t.Fatalf("public key from its file: %v", err)
			}
			if _, err := ParsePrivateKey(k.Public().MarshalPEM()); !errors.Is(err, ErrNotPrivate) {
				t.Errorf("public key as private: got %v", err)
			}
			if len(k.ID()) != 32 {
				t.Errorf("key id %q: want 32 hex digits", k.ID())
			}
		})
	}
}

// Another key of the same algorithm, and a key of another algorithm with
// the same signature, both fail without a panic.
func TestWrongKey(t *testing.T) {
	a, _ := Generate(MLDSA44)
	b, _ := Generate(MLDSA44)
	c, _ := Generate(Ed25519)
	sig, _ := a.Sign(DomainDescriptor, []byte("m"))
	if err := b.Public().Verify(DomainDescriptor, []byte("m"), sig); !errors.Is(err, ErrBadSignature) {
		t.Errorf("other key: got %v", err)
	}
	if err := c.Public().Verify(DomainDescriptor, []byte("m"), sig); err == nil {
		t.Errorf("ed25519 key verified an ML-DSA signature")
	}
	s, _ := NewSignature(a, DomainDescriptor, "m")
	if err := s.Verify(c.Public()); err == nil || !strings.Contains(err.Error(), "not by ed25519") {
		t.Errorf("signature checked with a key it does not name: got %v", err)
	}
}

// A key whose circl value is of another scheme than its algorithm makes
// circl panic; the package turns that into an error.
func TestMismatchedSchemeDoesNotPanic(t *testing.T) {
	a, _ := Generate(MLDSA65)
	b, _ := Generate(MLDSA44)
	forged := &PublicKey{alg: MLDSA44, raw: b.Public().raw, pk: a.Public().pk}
	sig, _ := b.Sign(DomainDescriptor, []byte("m"))
	err := forged.Verify(DomainDescriptor, []byte("m"), sig)
	if err == nil || !strings.Contains(err.Error(), "verify failed") {
		t.Fatalf("got %v, want the recovered panic as an error", err)
	}
	priv := &PrivateKey{pub: &PublicKey{alg: MLDSA44}, sk: a.sk}
	if _, err := priv.Sign(DomainDescriptor, []byte("m")); err == nil {
		t.Fatal("signing with a key of another scheme: no error")
	}
}

func TestBadKeyFiles(t *testing.T) {
	k, _ := Generate(MLDSA65)
	good := k.MarshalPEM()
	lines := strings.Split(string(good), "\n")
	cases := map[string]struct {
		in   string
		want string
	}{
		"empty":       {"", "empty file"},
		"junk":        {"hello\n", "not a knhk key"},
		"truncated":   {string(good[:len(good)/2]), "truncated"},
		"no end line": {strings.Join(lines[:len(lines)-2], "\n"), "truncated"},
		"stray text":  {string(good) + "trailing\n", "stray text"},
		"wrong alg":   {strings.Replace(string(good), "Algorithm: mldsa65", "Algorithm: mldsa44", 1), "Algorithm header is wrong"},
		"unknown alg": {strings.Replace(string(good), "Algorithm: mldsa65", "Algorithm: rsa", 1), `unknown algorithm "rsa"`},
		"other block": {strings.ReplaceAll(string(good), "KNHK PRIVATE KEY", "RSA PRIVATE KEY"), "not a knhk key"},
		"bad key id":  {strings.Replace(string(good), "Key-Id: "+k.ID(), "Key-Id: 00", 1), "the file is damaged"},
		"two keys":    {string(good) + string(good), "has 2 blocks"},
	}
	for name, c := range cases {
		_, err := ParsePrivateKey([]byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", name, err, c.want)
		}
	}
}

func TestSignatureFile(t *testing.T) {
	a, _ := Generate(Ed25519)
	b, _ := Generate(MLDSA65Ed25519)
	sa, _ := NewSignature(a, DomainDescriptor, "abc")
	sb, _ := NewSignature(b, DomainDescriptor, "abc")
	file := MarshalSignatures(sa, sb)
	sigs, err := ParseSignatures(file)
	if err != nil || len(sigs) != 2 {
		t.Fatalf("got %d signatures, %v", len(sigs), err)
	}
	trust := NewTrustSet(b.Public())
	got, err := trust.VerifyAny(sigs, DomainDescriptor, "abc", Policy{Hybrid})
	if err != nil || got.KeyID != b.ID() {
		t.Fatalf("got %v, %v; want the hybrid signature", got, err)
	}
	if _, err := trust.VerifyAny(sigs, DomainDescriptor, "abd", Policy{}); err == nil || !strings.Contains(err.Error(), "tampered") {
		t.Errorf("another subject: got %v", err)
	}
	if _, err := NewTrustSet(a.Public()).VerifyAny(sigs, DomainDescriptor, "abc", Policy{PostQuantum}); err == nil || !strings.Contains(err.Error(), "no longer accepts") {
		t.Errorf("classical under a post-quantum policy: got %v", err)
	}
	if _, err := NewTrustSet().VerifyAny(sigs, DomainDescriptor, "abc", Policy{}); err == nil || !strings.Contains(err.Error(), "untrusted") {
		t.Errorf("no trusted key: got %v", err)
	}
	if _, err := trust.VerifyAny(nil, DomainDescriptor, "abc", Policy{}); !errors.Is(err, ErrUnsigned) {
		t.Errorf("no signature: got %v", err)
	}
	// A signature cut short is refused when read.
	cut := bytes.Replace(MarshalSignatures(sa), []byte("\n-----END"), []byte("\n-----END"), 1)
	i := bytes.Index(cut, []byte("\n\n")) + 2
	cut = append(cut[:i:i], cut[i+8:]...)
	if _, err := ParseSignatures(cut); err == nil {
		t.Errorf("truncated signature read without error")
	}
}
