// This file implements signing policies: the migration from classical
// signatures through hybrid ones to post-quantum only.

package sign

import (
	"errors"
	"fmt"
)

// ErrUnsigned is returned (wrapped) when something that must be signed
// carries no signature.
var ErrUnsigned = errors.New("no signature")

// Policy is the weakest class of signature a verifier accepts. A
// deployment migrates by raising it: [Classical] accepts every
// algorithm, [Hybrid] accepts hybrid and post-quantum signatures,
// [PostQuantum] only post-quantum ones. Raising it never makes old
// signatures unreadable: an auditor verifies a log signed under an
// earlier policy with that policy (knhk receipts verify --policy), and
// keys rotated out stay in the trust directory for exactly that.
type Policy struct{ Min Class }

// ParsePolicy parses "classical", "hybrid" or "post-quantum" ("pq").
func ParsePolicy(s string) (Policy, error) {
	switch s {
	case "", "classical":
		return Policy{Classical}, nil
	case "hybrid":
		return Policy{Hybrid}, nil
	case "post-quantum", "pq":
		return Policy{PostQuantum}, nil
	}
	return Policy{}, fmt.Errorf("unknown policy %q (want classical, hybrid or post-quantum)", s)
}

func (p Policy) String() string { return p.Min.String() }

// Accepts reports whether p accepts signatures of alg.
func (p Policy) Accepts(alg Algorithm) bool { return alg.Class() >= p.Min }
