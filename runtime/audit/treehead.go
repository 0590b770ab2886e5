// This file implements the anchoring of a chain held by a raft cluster
// (chainevidence.go), which keeps no receipt log: an RFC 6962 Merkle
// tree over the chain's record hashes, its head signed by the node that
// exports it with the node's own key, and each record's inclusion proof
// in that tree. The tree is a function of the chain, so every node that
// applied the same entries computes the same root: a replica of the
// chain is its tree, and nothing more is replicated.
//
// What it adds to the hash chain: the chain alone can be rewritten from
// any record on, hashes recomputed, by whoever holds the export; a head
// signed by a node the auditor trusts fixes the records' number and
// every record's hash, so that truncation, reordering, a rewritten
// record or a forged head fails offline.

package audit

import (
	"errors"
	"fmt"
	"strings"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"

	"github.com/knhk/knhk/runtime/sign"
)

// DomainTreeHead is what a tree head's signature vouches for.
const DomainTreeHead sign.Domain = "audit-tree-head/v1"

// TreeHead commits to the first Size records of a chain: Root is the
// RFC 6962 root over their hashes. Node signed it, having applied the
// raft log up to index Applied, at Time (Unix nanoseconds).
type TreeHead struct {
	Size    uint64         `json:"size"`
	Root    Digest         `json:"root"`
	Node    string         `json:"node"`
	Applied uint64         `json:"applied"`
	Time    int64          `json:"time"`
	Alg     sign.Algorithm `json:"alg"`
	Key     string         `json:"key"`
	Sig     []byte         `json:"sig"`
}

// Text is what a tree head's signature signs.
func (h *TreeHead) Text() string {
	return fmt.Sprintf("knhk audit tree head v1\nnode %s\nsize %d\nroot %s\napplied %d\ntime %d\n", h.Node, h.Size, h.Root, h.Applied, h.Time)
}

// Sign signs h with k, filling in Alg, Key and Sig.
func (h *TreeHead) Sign(k *sign.PrivateKey) error {
	sig, err := k.Sign(DomainTreeHead, []byte(h.Text()))
	if err != nil {
		return err
	}
	h.Alg, h.Key, h.Sig = k.Algorithm(), k.ID(), sig
	return nil
}

// verify checks h's signature with a key of trust that policy accepts.
func (h *TreeHead) verify(trust *sign.TrustSet, policy sign.Policy) error {
	k := trust.Key(h.Key)
	switch {
	case k == nil:
		return fmt.Errorf("it is signed by key %s, which is not trusted", h.Key)
	case !policy.Accepts(h.Alg):
		return fmt.Errorf("it is signed with %s, weaker than the policy's %s", h.Alg, policy)
	}
	return h.VerifyWith(k)
}

// VerifyWith checks h's signature with k, which must be the key h names.
func (h *TreeHead) VerifyWith(k *sign.PublicKey) error {
	if k.ID() != h.Key || k.Algorithm() != h.Alg {
		return fmt.Errorf("it names %s key %s, not %s key %s", h.Alg, h.Key, k.Algorithm(), k.ID())
	}
	return k.Verify(DomainTreeHead, []byte(h.Text()), h.Sig)
}

// Tree is a chain's anchoring in an evidence report: the signed head and
// Proofs[i], the inclusion proof of record i in the head's tree.
// Cosigned are the heads of the same tree (size and root) that the
// cluster's other nodes signed when asked by the exporting one, each
// from its own replica: a chain forged with one node's stolen key
// lacks the others' signatures.
type Tree struct {
	Head     TreeHead   `json:"head"`
	Proofs   [][]Digest `json:"proofs"`
	Cosigned []TreeHead `json:"cosigned,omitempty"`
}

var hasher = rfc6962.DefaultHasher

// NewTree returns the tree of the records of ev, its head unsigned.
func NewTree(ev *Evidence) *Tree {
	hashes := make([]Digest, len(ev.Records))
	for i := range ev.Records {
		hashes[i] = ev.Records[i].Hash
	}
	levels := treeLevels(hashes)
	n := uint64(len(hashes))
	t := &Tree{Head: TreeHead{Size: n}, Proofs: make([][]Digest, n)}
	copy(t.Head.Root[:], subtreeRoot(levels, 0, n))
	for i := range n {
		nodes, _ := proof.Inclusion(i, n) // i < n: no error
		hs := make([][]byte, len(nodes.IDs))
		for k, id := range nodes.IDs {
			hs[k] = levels[id.Level][id.Index] // a perfect subtree's
		}
		hs, _ = nodes.Rehash(hs, hasher.HashChildren)
		t.Proofs[i] = make([]Digest, len(hs))
		for k := range hs {
			copy(t.Proofs[i][k][:], hs[k])
		}
	}
	return t
}

// treeLevels returns the perfect levels of the tree over the record
// hashes: the leaves, then each level's pairs' parents.
func treeLevels(hashes []Digest) [][][]byte {
	leaves := make([][]byte, len(hashes))
	for i := range hashes {
		leaves[i] = hasher.HashLeaf(hashes[i][:])
	}
	levels := [][][]byte{leaves}
	for cur := leaves; len(cur) > 1; {
		next := make([][]byte, 0, len(cur)/2)
		for i := 0; i+1 < len(cur); i += 2 {
			next = append(next, hasher.HashChildren(cur[i], cur[i+1]))
		}
		levels = append(levels, next)
		cur = next
	}
	return levels
}

// TreeRoot returns the root of the tree over the records' hashes, what
// a node compares a head it is asked to cosign with.
func TreeRoot(recs []Record) Digest {
	hashes := make([]Digest, len(recs))
	for i := range recs {
		hashes[i] = recs[i].Hash
	}
	var d Digest
	copy(d[:], subtreeRoot(treeLevels(hashes), 0, uint64(len(hashes))))
	return d
}

// subtreeRoot returns the RFC 6962 root of leaves [lo, hi), lo aligned
// to the largest power of two not above hi-lo, from the perfect levels.
func subtreeRoot(levels [][][]byte, lo, hi uint64) []byte {
	if hi == lo {
		return hasher.EmptyRoot()
	}
	for lvl := len(levels) - 1; lvl >= 0; lvl-- {
		w := uint64(1) << lvl
		if w <= hi-lo && lo%w == 0 {
			if w == hi-lo {
				return levels[lvl][lo/w]
			}
			return hasher.HashChildren(levels[lvl][lo/w], subtreeRoot(levels, lo+w, hi))
		}
	}
	panic("unreachable")
}

// errNoTree is a chain that asks to be trusted without a tree head.
var errNoTree = errors.New("the report has no signed tree head, yet keys to check one were given: it is not anchored")

// checkTree checks ev's tree against its records (rep.Records of them
// chained) and, with o.Trust, the head's signature, filling in rep.
func checkTree(ev *Evidence, o VerifyOptions, rep *Report) {
	t := ev.Tree
	bad := func(seq uint64, format string, args ...any) {
		rep.Problem = &Problem{Seq: seq, Reason: fmt.Sprintf(format, args...)}
	}
	if t.Head.Size != rep.Records {
		bad(min(t.Head.Size, rep.Records), "the signed tree head covers %d records, the report lists %d: records were removed or added", t.Head.Size, rep.Records)
		return
	}
	if uint64(len(t.Proofs)) != t.Head.Size {
		bad(0, "the tree has %d inclusion proofs for %d records", len(t.Proofs), t.Head.Size)
		return
	}
	for i := range ev.Records {
		e := &ev.Records[i]
		hs := make([][]byte, len(t.Proofs[i]))
		for k := range hs {
			hs[k] = t.Proofs[i][k][:]
		}
		if err := proof.VerifyInclusion(hasher, e.Seq, t.Head.Size, hasher.HashLeaf(e.Hash[:]), hs, t.Head.Root[:]); err != nil {
			bad(e.Seq, "it is not record %d of the signed tree head's tree (root %s): it was rewritten, moved or inserted", e.Seq, t.Head.Root)
			return
		}
	}
	rep.TreeSize, rep.TreeNode, rep.TreeRoot = t.Head.Size, t.Head.Node, t.Head.Root
	for _, h := range t.Cosigned {
		if h.Size != t.Head.Size || h.Root != t.Head.Root {
			bad(0, "node %s cosigned the tree of %d records, root %s, not the head's (%d records, root %s)", h.Node, h.Size, h.Root, t.Head.Size, t.Head.Root)
			return
		}
	}
	if o.Trust == nil {
		rep.ProofNote = "the tree head's signature was not checked: give the nodes' public keys (--trust)"
		return
	}
	// Every head must verify; the signers are counted once per key.
	keys := map[string]bool{}
	for _, h := range append([]TreeHead{t.Head}, t.Cosigned...) {
		if err := h.verify(o.Trust, o.Policy); err != nil {
			bad(0, "the tree head signed by node %s does not verify: %v", h.Node, err)
			return
		}
		if !keys[h.Key] {
			keys[h.Key] = true
			rep.TreeSigners = append(rep.TreeSigners, h.Node)
		}
	}
	if len(rep.TreeSigners) < o.Signers {
		bad(0, "the tree head is signed by %d trusted node(s) (%s), fewer than the %d asked for", len(rep.TreeSigners), strings.Join(rep.TreeSigners, ", "), o.Signers)
		return
	}
	rep.Key = t.Head.Key
}
