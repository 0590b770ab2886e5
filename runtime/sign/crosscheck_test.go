// This file checks the keys against other implementations: Ed25519
// against Go's crypto/ed25519, and the composite's two halves against
// circl's ML-DSA-65 and Ed25519 used directly.

package sign

import (
	"crypto/ed25519"
	"crypto/sha512"
	"testing"

	circled "github.com/cloudflare/circl/sign/ed25519"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
)

// The same seed gives the same key in both, and each verifies the
// other's signatures.
func TestEd25519MatchesStdlib(t *testing.T) {
	for i := 0; i < 8; i++ {
		k, err := Generate(Ed25519)
		if err != nil {
			t.Fatal(err)
		}
		std := ed25519.NewKeyFromSeed(k.secret)
		if string(std.Public().(ed25519.PublicKey)) != string(k.Public().Bytes()) {
			t.Fatalf("public keys differ for one seed")
		}
		msg := []byte{byte(i), 'x'}
		sig, _ := k.Sign(DomainCheckpoint, msg)
		if !ed25519.Verify(std.Public().(ed25519.PublicKey), DomainCheckpoint.message(msg), sig) {
			t.Fatalf("crypto/ed25519 rejects our signature")
		}
		stdSig := ed25519.Sign(std, DomainCheckpoint.message(msg))
		if err := k.Public().Verify(DomainCheckpoint, msg, stdSig); err != nil {
			t.Fatalf("we reject crypto/ed25519's signature: %v", err)
		}
	}
}

// A composite signature is an ML-DSA-65 signature with the label as its
// context and an Ed25519 signature, over the same M'; each half verifies
// on its own with its own key, and replacing either half with a valid
// signature of another key makes the whole fail: both are needed.
func TestCompositeHalves(t *testing.T) {
	k, _ := Generate(MLDSA65Ed25519)
	other, _ := Generate(MLDSA65Ed25519)
	msg := []byte("checkpoint 12")
	sig, _ := k.Sign(DomainCheckpoint, msg)
	mp := compositeMessage(DomainCheckpoint.message(msg))
	if len(mp) != len(compositePrefix)+len(compositeLabel)+1+64 {
		t.Fatalf("M' is %d bytes", len(mp))
	}
	pk := k.Public().Bytes()
	var ml mldsa65.PublicKey
	if err := ml.UnmarshalBinary(pk[:mldsa65.PublicKeySize]); err != nil {
		t.Fatal(err)
	}
	if !mldsa65.Verify(&ml, mp, []byte(compositeLabel), sig[:mldsa65.SignatureSize]) {
		t.Errorf("the ML-DSA-65 half does not verify on its own")
	}
	if !circled.Verify(circled.PublicKey(pk[mldsa65.PublicKeySize:]), mp, sig[mldsa65.SignatureSize:]) {
		t.Errorf("the Ed25519 half does not verify on its own")
	}
	if !ed25519.Verify(ed25519.PublicKey(pk[mldsa65.PublicKeySize:]), mp, sig[mldsa65.SignatureSize:]) {
		t.Errorf("crypto/ed25519 rejects the Ed25519 half")
	}
	osig, _ := other.Sign(DomainCheckpoint, msg)
	mixed1 := append(append([]byte(nil), osig[:mldsa65.SignatureSize]...), sig[mldsa65.SignatureSize:]...)
	mixed2 := append(append([]byte(nil), sig[:mldsa65.SignatureSize]...), osig[mldsa65.SignatureSize:]...)
	for name, s := range map[string][]byte{"ML-DSA half replaced": mixed1, "Ed25519 half replaced": mixed2} {
		if err := k.Public().Verify(DomainCheckpoint, msg, s); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
	// The ML-DSA half is bound to the label: without it as context it
	// does not verify.
	if mldsa65.Verify(&ml, mp, nil, sig[:mldsa65.SignatureSize]) {
		t.Errorf("the ML-DSA half verifies without the label as context")
	}
}

// The composite key is the two component keys, each derived from its
// own half of the seed, concatenated ML-DSA first.
func TestCompositeKeyLayout(t *testing.T) {
	k, _ := Generate(MLDSA65Ed25519)
	var s [32]byte
	copy(s[:], k.secret[:32])
	mlpk, _ := mldsa65.NewKeyFromSeed(&s)
	b, _ := mlpk.MarshalBinary()
	ed := ed25519.NewKeyFromSeed(k.secret[32:]).Public().(ed25519.PublicKey)
	if string(k.Public().Bytes()) != string(b)+string(ed) {
		t.Fatal("composite public key is not ML-DSA-65 pk || Ed25519 pk")
	}
}

// A composite signature assembled outside this package, from circl's
// ML-DSA-65 and Go's crypto/ed25519 following the draft's steps (M'
// built here from its parts, not by compositeMessage), verifies with the
// package's key: the two sides agree on M', the context and the layout.
func TestCompositeFromComponents(t *testing.T) {
	k, _ := Generate(MLDSA65Ed25519)
	msg := []byte("descriptor 42")
	m := append([]byte("knhk/descriptor/v1\x00"), msg...)
	ph := sha512.Sum512(m)
	mp := append([]byte("CompositeAlgorithmSignatures2025COMPSIG-MLDSA65-Ed25519-SHA512\x00"), ph[:]...)
	var seed [32]byte
	copy(seed[:], k.secret[:32])
	_, mlsk := mldsa65.NewKeyFromSeed(&seed)
	sig := make([]byte, mldsa65.SignatureSize)
	if err := mldsa65.SignTo(mlsk, mp, []byte("COMPSIG-MLDSA65-Ed25519-SHA512"), false, sig); err != nil {
		t.Fatal(err)
	}
	sig = append(sig, ed25519.Sign(ed25519.NewKeyFromSeed(k.secret[32:]), mp)...)
	if err := k.Public().Verify(DomainDescriptor, msg, sig); err != nil {
		t.Fatalf("a composite built from its components does not verify: %v", err)
	}
}
