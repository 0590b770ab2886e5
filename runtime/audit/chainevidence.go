// This file implements the evidence report of a chain held elsewhere
// than a data directory's log: a raft cluster's audit chain, which every
// node holds alike (runtime/cluster's OpAudit).

package audit

import (
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
