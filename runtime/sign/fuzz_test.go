// This file fuzzes the key and signature file decoders: any input is an
// error or a key that writes back to an equal key, never a panic.

package sign

import "testing"

func FuzzParseKey(f *testing.F) {
	for _, alg := range []Algorithm{Ed25519, MLDSA44, MLDSA65Ed25519} {
		k, _ := Generate(alg)
		f.Add(k.MarshalPEM())
		f.Add(k.Public().MarshalPEM())
	}
	f.Add([]byte("-----BEGIN KNHK PRIVATE KEY-----\nAlgorithm: ed25519\n\nAAAA\n-----END KNHK PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if k, err := ParsePrivateKey(b); err == nil {
			k2, err := ParsePrivateKey(k.MarshalPEM())
			if err != nil || !k2.Public().Equal(k.Public()) {
				t.Fatalf("private key does not round-trip: %v", err)
			}
		}
		if k, err := ParsePublicKey(b); err == nil {
			k2, err := ParsePublicKey(k.MarshalPEM())
			if err != nil || !k2.Equal(k) {
				t.Fatalf("public key does not round-trip: %v", err)
			}
			_ = k.Verify(DomainDescriptor, b, b) // must not panic
		}
	})
}

func FuzzParseSignatures(f *testing.F) {
	k, _ := Generate(Ed25519)
	s, _ := NewSignature(k, DomainDescriptor, "abc")
	f.Add(MarshalSignatures(s))
	f.Fuzz(func(t *testing.T, b []byte) {
		sigs, err := ParseSignatures(b)
		if err != nil {
			return
		}
		again, err := ParseSignatures(MarshalSignatures(sigs...))
		if err != nil || len(again) != len(sigs) {
			t.Fatalf("signatures do not round-trip: %v", err)
		}
		for _, s := range sigs {
			if len(s.Sig) != s.Alg.SignatureSize() {
				t.Fatalf("accepted a %d-byte %s signature", len(s.Sig), s.Alg)
			}
			_ = s.Verify(k.Public()) // must not panic
		}
	})
}
