// This file implements counting a month from records handed over in log
// order instead of read from a data directory's store: a raft cluster's
// committed events (runtime/cluster), whose sequence numbers are their
// raft indexes. The counts, the task time and the digest are Count's,
// record for record.

package meter

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/store"
)

// CountRecords counts month of recs, which are in log order, as Count
// counts a store's log.
func CountRecords(month string, recs []store.Record) (Usage, error) {
	c := &counter{u: Usage{Version: Version, Month: month}, h: sha256.New(), started: map[string]map[int32]int64{}, calls: map[string]int32{}}
	for _, r := range recs {
		if err := c.add(r); err != nil {
			return Usage{}, err
		}
	}
	c.u.Digest = hex.EncodeToString(c.h.Sum(nil))
	return c.u, nil
}

// RecordOf is the record a store would hold for event ev, encoded as
// data (engine.EncodeEvent), of case id at sequence number seq.
func RecordOf(seq uint64, id string, ev *engine.Event, data []byte) store.Record {
	return store.Record{Seq: store.Seq(seq), CaseID: id, Kind: ev.Kind.String(), Payload: data}
}
