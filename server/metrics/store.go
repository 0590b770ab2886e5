// This file implements the hook for the store's group commits.

package metrics

import "github.com/knhk/knhk/runtime/store"

// Commit records one group commit of the event log: its fsync's
// duration, the records it made durable and the bytes it wrote. It is
// the store's Options.OnCommit.
func (m *Metrics) Commit(c store.CommitInfo) {
	m.fsync.Observe(c.Sync.Seconds())
	m.batch.Observe(float64(c.Records))
	m.commitBytes.Add(float64(c.Bytes))
}
