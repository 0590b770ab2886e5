// This file implements the metrics of external task queues, read from
// the broker at scrape time.

package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/knhk/knhk/runtime/queue"
)

// QueueStatter is what the queue metrics read: a snapshot of every
// queue of a queue.Broker (the server's QueueStats).
type QueueStatter interface {
	QueueStats() []queue.QueueStats
}

var (
	queuePendingDesc = prometheus.NewDesc("knhk_queue_pending", "Tasks waiting for a worker: the queue's depth.", []string{"queue"}, nil)
	queueLeasedDesc  = prometheus.NewDesc("knhk_queue_leased", "Tasks a worker holds under a lease.", []string{"queue"}, nil)
	queuePollersDesc = prometheus.NewDesc("knhk_queue_pollers", "Workers blocked in a poll of the queue.", []string{"queue"}, nil)
	queueTasksDesc   = prometheus.NewDesc("knhk_queue_tasks_total", "Attempts of queue tasks settled, by result: completed, failed (by the worker or with a bad result), expired (the lease ran out), withdrawn (the engine gave up: timeout, cancel).", []string{"queue", "result"}, nil)
	queueExpiryDesc  = prometheus.NewDesc("knhk_queue_lease_expiries_total", "Leases that ran out without a heartbeat; each fails its attempt.", []string{"queue"}, nil)
)

// WatchQueues registers the queue metrics over q. Call it once.
func (m *Metrics) WatchQueues(q QueueStatter) {
	m.reg.MustRegister(queueCollector{q})
}

type queueCollector struct{ q QueueStatter }

func (queueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{queuePendingDesc, queueLeasedDesc, queuePollersDesc, queueTasksDesc, queueExpiryDesc} {
		ch <- d
	}
}

func (qc queueCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range qc.q.QueueStats() {
		gauge := func(d *prometheus.Desc, v int) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), s.Queue)
		}
		gauge(queuePendingDesc, s.Pending)
		gauge(queueLeasedDesc, s.Leased)
		gauge(queuePollersDesc, s.Pollers)
		for _, r := range []struct {
			name string
			n    uint64
		}{{"completed", s.Completed}, {"failed", s.Failed}, {"expired", s.Expired}, {"withdrawn", s.Withdrawn}} {
			ch <- prometheus.MustNewConstMetric(queueTasksDesc, prometheus.CounterValue, float64(r.n), s.Queue, r.name)
		}
		ch <- prometheus.MustNewConstMetric(queueExpiryDesc, prometheus.CounterValue, float64(s.Expired), s.Queue)
	}
}
