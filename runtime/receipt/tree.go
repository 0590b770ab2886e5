// This file implements the Merkle tree over receipt hashes: the running
// root the recorder signs, and the node hashes that inclusion and
// consistency proofs are made of.

package receipt

import (
	"crypto/sha256"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

var (
	hasher   = rfc6962.DefaultHasher
	rangeFac = &compact.RangeFactory{Hash: hashChildren}
)

// hashChildren is RFC 6962's inner node hash, SHA-256(0x01 || l || r),
// as hasher.HashChildren computes it, without the hash object and its
// buffers that one allocates per call: the recorder's range hashes
// about once per receipt.
func hashChildren(l, r []byte) []byte {
	var b [1 + 2*sha256.Size]byte
	b[0] = rfc6962.RFC6962NodeHashPrefix
	copy(b[1:], l)
	copy(b[1+sha256.Size:], r)
	h := sha256.Sum256(b[:])
	return h[:]
}

// leafHash is the Merkle leaf of a receipt: its hash, which is already
// the RFC 6962 leaf hash of its encoding (see [Receipt.ComputeHash]).
func leafHash(h Digest) []byte { return append([]byte(nil), h[:]...) }

// rootOf returns the root of a compact range, the empty-tree root for
// none.
func rootOf(r *compact.Range) (Digest, error) {
	var d Digest
	if r.End() == 0 {
		copy(d[:], hasher.EmptyRoot())
		return d, nil
	}
	h, err := r.GetRootHash(nil)
	if err != nil {
		return d, err
	}
	copy(d[:], h)
	return d, nil
}

// tree holds every perfect node hash over a list of leaves: levels[0]
// the leaf hashes, levels[k][i] the parent of levels[k-1][2i] and
// [2i+1]. A proof for any tree size up to the number of leaves uses only
// such nodes (and ephemeral ones rehashed from them).
type tree struct{ levels [][][]byte }

func newTree(leaves [][]byte) *tree {
	t := &tree{levels: [][][]byte{leaves}}
	for cur := leaves; len(cur) > 1; {
		next := make([][]byte, len(cur)/2)
		for i := range next {
			next[i] = hasher.HashChildren(cur[2*i], cur[2*i+1])
		}
		t.levels = append(t.levels, next)
		cur = next
	}
	return t
}

func (t *tree) node(id compact.NodeID) ([]byte, error) {
	if int(id.Level) >= len(t.levels) || id.Index >= uint64(len(t.levels[id.Level])) {
		return nil, fmt.Errorf("no node %d/%d", id.Level, id.Index)
	}
	return t.levels[id.Level][id.Index], nil
}

func (t *tree) hashes(n proof.Nodes) ([][]byte, error) {
	hs := make([][]byte, len(n.IDs))
	for i, id := range n.IDs {
		h, err := t.node(id)
		if err != nil {
			return nil, err
		}
		hs[i] = h
	}
	return n.Rehash(hs, hasher.HashChildren)
}

// inclusion returns the proof that leaf index is in the tree of size.
func (t *tree) inclusion(index, size uint64) ([][]byte, error) {
	n, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, err
	}
	return t.hashes(n)
}

// consistency returns the proof that the tree of size1 is a prefix of
// the tree of size2.
func (t *tree) consistency(size1, size2 uint64) ([][]byte, error) {
	n, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, err
	}
	return t.hashes(n)
}
