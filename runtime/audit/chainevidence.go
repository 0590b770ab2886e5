// This file implements the evidence report of a chain held elsewhere
// than a data directory's log: a raft cluster's audit chain, which every
// node holds alike (runtime/cluster's OpAudit).

package audit

import "time"

// EvidenceOf builds the evidence report of recs, a whole chain from its
// first record, as Collect does of a data directory's log, with scope
// naming where the chain is kept. It has no anchors: such a chain is
// agreed by the nodes that hold it, not anchored in a receipt log.
func EvidenceOf(recs []Record, scope string, o CollectOptions) *Evidence {
	if o.Now == nil {
		o.Now = time.Now
	}
	ev := &Evidence{Format: EvidenceFormat, Generated: o.Now().UTC().Format(time.RFC3339), Scope: scope, Anchors: []Anchor{}}
	if o.Tenant != "" {
		ev.Scope += ", tenant " + o.Tenant
	}
	ev.Records = make([]Entry, len(recs))
	for i := range recs {
		r := &recs[i]
		e := Entry{Seq: r.Seq, Body: r.BodyDigest(), Prev: r.Prev, Hash: r.Hash}
		if o.Tenant == "" || r.Tenant == o.Tenant {
			e.Record, e.Criteria = r, Criteria(r)
		}
		ev.Records[i] = e
	}
	ev.Criteria = mapCriteria(ev.Records)
	ev.Found = Check(ev, VerifyOptions{})
	return ev
}
