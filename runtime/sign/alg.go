// This file implements the table of signature algorithms.

package sign

import (
	"fmt"
	"sort"
	"strings"

	circl "github.com/cloudflare/circl/sign"
	"github.com/cloudflare/circl/sign/ed25519"
	"github.com/cloudflare/circl/sign/mldsa/mldsa44"
	"github.com/cloudflare/circl/sign/mldsa/mldsa65"
	"github.com/cloudflare/circl/sign/mldsa/mldsa87"
	"github.com/cloudflare/circl/sign/slhdsa"
)

// Algorithm names a signature algorithm as knhk spells it on the command
// line and in key files.
type Algorithm string

// The algorithms.
const (
	Ed25519        Algorithm = "ed25519"
	MLDSA44        Algorithm = "mldsa44"
	MLDSA65        Algorithm = "mldsa65"
	MLDSA87        Algorithm = "mldsa87"
	SLHDSA128s     Algorithm = "slhdsa-sha2-128s"
	SLHDSA128f     Algorithm = "slhdsa-sha2-128f"
	MLDSA65Ed25519 Algorithm = "mldsa65-ed25519"
)

// Class says what an algorithm's security rests on, which is what a
// signing [Policy] moves through.
type Class int

// The classes, in the order a migration moves through them.
const (
	Classical   Class = iota // breaks with a quantum computer
	Hybrid                   // a classical and a post-quantum signature, both needed
	PostQuantum              // post-quantum only
	numClasses
)

var classNames = [...]string{"classical", "hybrid", "post-quantum"}

func (c Class) String() string {
	if c >= 0 && c < numClasses {
		return classNames[c]
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// algInfo is what the package knows of an algorithm.
type algInfo struct {
	class Class
	// scheme is circl's scheme; nil for the composite.
	scheme circl.Scheme
	// seeded: the private key is stored as its seed (FIPS 204 ξ, RFC 8032
	// seed); otherwise as circl's full private key encoding (SLH-DSA's
	// SK.seed, SK.prf, PK.seed and PK.root).
	seeded bool
}

var algs = map[Algorithm]algInfo{
	Ed25519:        {Classical, ed25519.Scheme(), true},
	MLDSA44:        {PostQuantum, mldsa44.Scheme(), true},
	MLDSA65:        {PostQuantum, mldsa65.Scheme(), true},
	MLDSA87:        {PostQuantum, mldsa87.Scheme(), true},
	SLHDSA128s:     {PostQuantum, slhdsa.SHA2_128s.Scheme(), false},
	SLHDSA128f:     {PostQuantum, slhdsa.SHA2_128f.Scheme(), false},
	MLDSA65Ed25519: {Hybrid, nil, true},
}

// Algorithms returns every algorithm, sorted.
func Algorithms() []Algorithm {
	out := make([]Algorithm, 0, len(algs))
	for a := range algs {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// ParseAlgorithm returns the algorithm named s, or an error that lists
// the algorithms there are.
func ParseAlgorithm(s string) (Algorithm, error) {
	a := Algorithm(strings.ToLower(strings.TrimSpace(s)))
	if _, ok := algs[a]; ok {
		return a, nil
	}
	names := make([]string, 0, len(algs))
	for _, a := range Algorithms() {
		names = append(names, string(a))
	}
	return "", fmt.Errorf("unknown algorithm %q (want one of %s)", s, strings.Join(names, ", "))
}

// Class returns a's class.
func (a Algorithm) Class() Class { return algs[a].class }

// sizes returns the lengths of a's public key, private key (as stored)
// and signature.
func (a Algorithm) sizes() (pub, priv, sig int) {
	if a == MLDSA65Ed25519 {
		return compositePubSize, compositeSeedSize, compositeSigSize
	}
	s := algs[a].scheme
	priv = s.PrivateKeySize()
	if algs[a].seeded {
		priv = s.SeedSize()
	}
	return s.PublicKeySize(), priv, s.SignatureSize()
}

// SignatureSize returns the length of a's signatures.
func (a Algorithm) SignatureSize() int { _, _, n := a.sizes(); return n }
