// This file implements a validator's seal root: the secret its sealed
// tenants' data keys are derived from (sealed.go), and the puncturing
// that destroys one tenant's key for good (its erasure).
//
// The keys are the leaves of a GGM tree of depth 32 over a 32-byte
// root: a node's children are HMAC-SHA256(node, 0) and (node, 1), and
// sealed tenant n's key is leaf n. Every validator's home holds the
// same root (knhk cluster bft-init writes it, as it writes every
// validator's private keys), so every validator derives the same key
// and no key is ever wrapped, sent or written into a block. Puncturing
// leaf n replaces the stored node above it by the siblings along its
// path: every other leaf is still derivable, leaf n from nothing the
// file keeps.

package bft

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/knhk/knhk/internal/atomicfile"
)

// SealRootFile is a validator home's seal root.
const SealRootFile = "knhk-seal-root.json"

// ErrPunctured is the error of deriving a punctured leaf.
var ErrPunctured = errors.New("the tenant's key is destroyed (crypto-shredded)")

// sealDepth is the tree's depth: 2^32 sealed tenants.
const sealDepth = 32

// sealNode is a stored node: the subtree of the leaves whose first
// Depth bits are Prefix.
type sealNode struct {
	Depth  int    `json:"d"`
	Prefix uint32 `json:"p"`
	Key    []byte `json:"k"`
}

// covers says whether leaf n is under the node.
func (s sealNode) covers(n uint32) bool {
	return s.Depth == 0 || n>>(sealDepth-s.Depth) == s.Prefix
}

// SealRoot is a validator's seal root as its home holds it.
type SealRoot struct {
	path  string
	mu    sync.Mutex
	nodes []sealNode
}

type sealRootFile struct {
	V     int        `json:"v"`
	Nodes []sealNode `json:"nodes"`
}

// WriteSealRoot writes root (32 bytes) as the seal root of home.
func WriteSealRoot(home string, root []byte) error {
	if len(root) != 32 {
		return fmt.Errorf("a seal root of %d bytes, want 32", len(root))
	}
	s := &SealRoot{path: filepath.Join(home, SealRootFile), nodes: []sealNode{{Key: root}}}
	return s.save()
}

// NewSealRootSecret returns a random root.
func NewSealRootSecret() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}

// LoadSealRoot reads home's seal root; nil and no error when the home
// has none (written before seal roots).
func LoadSealRoot(home string) (*SealRoot, error) {
	path := filepath.Join(home, SealRootFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var f sealRootFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if f.V != 1 {
		return nil, fmt.Errorf("%s: version %d, want 1", path, f.V)
	}
	for _, n := range f.Nodes {
		if n.Depth < 0 || n.Depth > sealDepth || len(n.Key) != 32 || n.Depth < sealDepth && n.Depth > 0 && n.Prefix>>n.Depth != 0 {
			return nil, fmt.Errorf("%s: a bad node (depth %d)", path, n.Depth)
		}
	}
	return &SealRoot{path: path, nodes: f.Nodes}, nil
}

func child(k []byte, bit uint32) []byte {
	m := hmac.New(sha256.New, k)
	m.Write([]byte{byte(bit)})
	return m.Sum(nil)
}

// bitAt is leaf n's bit at depth i (0: the first under the root).
func bitAt(n uint32, i int) uint32 { return n >> (sealDepth - 1 - i) & 1 }

// Leaf derives leaf n's key; ErrPunctured once it was punctured.
func (s *SealRoot) Leaf(n uint32) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, k, err := s.find(n)
	return k, err
}

// find returns the index of the stored node above leaf n and the
// leaf's key; s.mu is held.
func (s *SealRoot) find(n uint32) (int, []byte, error) {
	for i, nd := range s.nodes {
		if nd.covers(n) {
			k := nd.Key
			for d := nd.Depth; d < sealDepth; d++ {
				k = child(k, bitAt(n, d))
			}
			return i, k, nil
		}
	}
	return 0, nil, fmt.Errorf("leaf %d: %w", n, ErrPunctured)
}

// Puncture destroys leaf n for good and saves the file; puncturing a
// punctured leaf does nothing. Every stored node above the leaf goes
// (a file may hold two).
func (s *SealRoot) Puncture(n uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := false
	for {
		i, _, err := s.find(n)
		if err != nil {
			break
		}
		nd := s.nodes[i]
		rest := append(append([]sealNode(nil), s.nodes[:i]...), s.nodes[i+1:]...)
		k := nd.Key
		for d := nd.Depth; d < sealDepth; d++ {
			b := bitAt(n, d)
			// The sibling's subtree: the first d bits of n, then not b.
			prefix := n>>(sealDepth-d-1) ^ 1
			rest = append(rest, sealNode{Depth: d + 1, Prefix: prefix, Key: child(k, b^1)})
			k = child(k, b)
		}
		clear(nd.Key)
		s.nodes, changed = rest, true
	}
	if !changed {
		return nil
	}
	return s.save()
}

// save writes the file atomically; s.mu is held (or s is new).
func (s *SealRoot) save() error {
	b, err := json.Marshal(sealRootFile{V: 1, Nodes: s.nodes})
	if err != nil {
		return err
	}
	return atomicfile.Write(s.path, b, 0o600)
}
