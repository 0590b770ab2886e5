package serve

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/store"
)

// commitStats counts the store's group commits during a run, to say
// where a case's latency goes: how many fsyncs a case costs, how many
// records share one, and how long the fdatasync itself takes.
type commitStats struct {
	commits, records atomic.Int64
	sync             atomic.Int64 // nanoseconds in fdatasync
}

// onCommit is store.Options.OnCommit.
func (c *commitStats) onCommit(i store.CommitInfo) {
	c.commits.Add(1)
	c.records.Add(int64(i.Records))
	c.sync.Add(int64(i.Sync))
}

// reset forgets what the set-up committed.
func (c *commitStats) reset() { c.commits.Store(0); c.records.Store(0); c.sync.Store(0) }

// report adds commits per case, records per commit and the mean
// fdatasync to b's results.
func (c *commitStats) report(b *testing.B, cases int) {
	n := c.commits.Load()
	if n == 0 || cases == 0 {
		return
	}
	b.ReportMetric(float64(n)/float64(cases), "commits/case")
	b.ReportMetric(float64(c.records.Load())/float64(n), "recs/commit")
	b.ReportMetric(float64(time.Duration(c.sync.Load()/n).Microseconds()), "fsync-µs")
}
