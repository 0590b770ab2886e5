// This file implements the evidence report of a chain held elsewhere
// than a data directory's log: a raft cluster's audit chain, which every
// node holds alike (runtime/cluster's OpAudit).

package audit

import (
	"fmt"
	"time"

	"github.com/knhk/knhk/runtime/sign"
)

// EvidenceOf builds the evidence report of recs, a whole chain from its
// first record, as Collect does of a data directory's log, with scope
// naming where the chain is kept. It has no anchors: such a chain is
// agreed by the nodes that hold it, not anchored in a receipt log;
// AnchorTree anchors it.
func EvidenceOf(recs []Record, scope string, o CollectOptions) *Evidence {
	if o.Tenant != "" {
		scope += ", tenant " + o.Tenant
	}
	ptrs := make([]*Record, len(recs))
	for i := range recs {
		ptrs[i] = &recs[i]
	}
	ev := evidenceOf(ptrs, scope, nil, o)
	ev.Found = Check(ev, VerifyOptions{})
	return ev
}

// AnchorTree anchors ev, a report of EvidenceOf, in the Merkle tree of
// its records (treehead.go): the head signed with k by node, which had
// applied the raft log up to index applied, and the records' inclusion
// proofs; ev.Found is then checked again with k trusted.
func AnchorTree(ev *Evidence, node string, applied uint64, now time.Time, k *sign.PrivateKey) error {
	t := NewTree(ev)
	t.Head.Node, t.Head.Applied, t.Head.Time = node, applied, now.UnixNano()
	if err := t.Head.Sign(k); err != nil {
		return err
	}
	ev.Tree = t
	ev.Found = Check(ev, VerifyOptions{Trust: sign.NewTrustSet(k.Public())})
	return nil
}

// Cosign signs with k, as node (which applied the raft log up to index
// applied), the head of the tree of the first size records of recs, its
// own replica of the chain, if that tree's root is root: another node's
// export asks it to, so that a head forged with one node's key lacks
// the other nodes' signatures.
func Cosign(recs []Record, size uint64, root Digest, node string, applied uint64, now time.Time, k *sign.PrivateKey) (*TreeHead, error) {
	if uint64(len(recs)) < size {
		return nil, fmt.Errorf("node %s has applied %d records of the chain, not %d", node, len(recs), size)
	}
	if got := TreeRoot(recs[:size]); got != root {
		return nil, fmt.Errorf("node %s's tree of the first %d records has root %s, not %s", node, size, got, root)
	}
	h := &TreeHead{Size: size, Root: root, Node: node, Applied: applied, Time: now.UnixNano()}
	if err := h.Sign(k); err != nil {
		return nil, err
	}
	return h, nil
}
