// This file implements the evidence report of a chain held elsewhere
// than a data directory's log: a raft cluster's audit chain, which every
// node holds alike (runtime/cluster's OpAudit).

package audit

// EvidenceOf builds the evidence report of recs, a whole chain from its
// first record, as Collect does of a data directory's log, with scope
// naming where the chain is kept. It has no anchors: such a chain is
// agreed by the nodes that hold it, not anchored in a receipt log.
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
