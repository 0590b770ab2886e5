// This file implements trust sets: the public keys a runtime accepts
// signatures from, read from a directory.

package sign

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// TrustSet is a set of public keys by key id. Rotating a key means adding
// the new public key and keeping the old one, so that what the old key
// signed still verifies.
type TrustSet struct {
	Dir  string
	keys map[string]*PublicKey
}

// NewTrustSet returns a trust set of keys.
func NewTrustSet(keys ...*PublicKey) *TrustSet {
	t := &TrustSet{keys: map[string]*PublicKey{}}
	for _, k := range keys {
		t.keys[k.ID()] = k
	}
	return t
}

// LoadTrustDir reads every *.pub file of dir. A file that is not a
// public key is an error naming it: a trust directory with a damaged key
// must not quietly trust less (or more) than its owner thinks.
func LoadTrustDir(dir string) (*TrustSet, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("trust directory: %w", err)
	}
	t := &TrustSet{Dir: dir, keys: map[string]*PublicKey{}}
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".pub") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		k, err := ParsePublicKey(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		t.keys[k.ID()] = k
	}
	if len(t.keys) == 0 {
		return nil, fmt.Errorf("trust directory %s holds no public key (*.pub)", dir)
	}
	return t, nil
}

// Key returns the key with id, or nil.
func (t *TrustSet) Key(id string) *PublicKey { return t.keys[id] }

// IDs returns the key ids of t, sorted.
func (t *TrustSet) IDs() []string {
	out := make([]string, 0, len(t.keys))
	for id := range t.keys {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// VerifyAny checks that at least one of sigs is by a key of t, signs
// subject under d and verifies, and that it meets policy p. It returns
// the signature that did. The error says why none did: no signature,
// signatures for another subject (tampered), only keys outside t
// (untrusted), a signature that does not verify (tampered), or a class
// the policy no longer accepts.
func (t *TrustSet) VerifyAny(sigs []*Signature, d Domain, subject string, p Policy) (*Signature, error) {
	if len(sigs) == 0 {
		return nil, fmt.Errorf("unsigned: %w", ErrUnsigned)
	}
	var reasons []string
	for _, s := range sigs {
		switch k := t.keys[s.KeyID]; {
		case s.Domain != d:
			reasons = append(reasons, fmt.Sprintf("a signature for %s, not %s", s.Domain, d))
		case s.Subject != subject:
			reasons = append(reasons, fmt.Sprintf("tampered: signature by key %s is for %s, not %s", s.KeyID, s.Subject, subject))
		case k == nil:
			reasons = append(reasons, fmt.Sprintf("untrusted: signed by %s key %s, which is not in %s", s.Alg, s.KeyID, t.where()))
		case !p.Accepts(s.Alg):
			reasons = append(reasons, fmt.Sprintf("signed by %s key %s, a %s algorithm that policy %s no longer accepts", s.Alg, s.KeyID, s.Alg.Class(), p))
		default:
			if err := s.Verify(k); err != nil {
				reasons = append(reasons, fmt.Sprintf("tampered: %v", err))
				continue
			}
			return s, nil
		}
	}
	return nil, fmt.Errorf("%s", strings.Join(reasons, "; "))
}

func (t *TrustSet) where() string {
	if t.Dir != "" {
		return "trust directory " + t.Dir
	}
	return "the trusted keys"
}
