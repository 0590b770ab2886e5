// This file implements /metrics, /healthz and /readyz on a raft cluster
// node, through the server/metrics package as knhk serve mounts them:
// the events each replica applied, its cases by workflow and status,
// the leader's queues, and the node's raft standing.

package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/queue"
	"github.com/knhk/knhk/server/metrics"
)

// Handle serves h at pattern on the node's API (the metrics.Mux of a
// cluster node), behind the token of Secure.
func (a *ClusterAPI) Handle(pattern string, h http.Handler) { a.mux.Handle(pattern, h) }

// HandlePublic serves h at pattern on the node's API, outside the token
// check (the probes).
func (a *ClusterAPI) HandlePublic(pattern string, h http.Handler) { a.handlePublic(pattern, h) }

// MountMetrics serves m's /metrics and h's probes on the node, counts
// the events its FSM applies into m, and registers the node's cases,
// queues and raft gauges. The probes fail while the FSM has stopped
// applying (a log or program it cannot apply).
func (a *ClusterAPI) MountMetrics(m *metrics.Metrics, h *metrics.Health) {
	a.n.FSM().Observe(m.Event)
	m.WatchCases(a)
	m.WatchQueues(a)
	m.Registry().MustRegister(raftCollector{a})
	h.SetCheck(a.n.FSM().Broken)
	metrics.Mount(a, m, h)
}

// CaseCounts counts this node's copy of the cases by workflow and
// status (metrics.CaseCounter).
func (a *ClusterAPI) CaseCounts(fn func(workflow, status string, n int)) {
	type key struct{ wf, status string }
	counts := map[key]int{}
	fsm := a.n.FSM()
	for _, id := range fsm.Cases(false) {
		st, _, ok := fsm.Case(id)
		if !ok {
			continue
		}
		p := a.progOf(id)
		wf := ""
		if int(st.Net) < len(p.Nets) {
			wf = p.Nets[st.Net].Name
		}
		counts[key{wf, st.Status.String()}]++
	}
	for k, n := range counts {
		fn(k.wf, k.status, n)
	}
}

// QueueStats reports the leader's queues; a follower has none
// (metrics.QueueStatter).
func (a *ClusterAPI) QueueStats() []queue.QueueStats {
	if q := a.n.Queue(); q != nil {
		if b := q.Broker(); b != nil {
			return b.Stats()
		}
	}
	return nil
}

var (
	raftLeaderDesc  = prometheus.NewDesc("knhk_cluster_leader", "1 while this node leads and runs the engine, else 0.", nil, nil)
	raftAppliedDesc = prometheus.NewDesc("knhk_cluster_applied_index", "The raft index of the last entry this node's FSM applied.", nil, nil)
	raftCommitDesc  = prometheus.NewDesc("knhk_cluster_commit_index", "The raft commit index as this node knows it; commit minus applied is its lag.", nil, nil)
	raftTermDesc    = prometheus.NewDesc("knhk_cluster_term", "The node's raft term; a rise is an election.", nil, nil)
	// The month's accelerator use as the replicated log carries it
	// (runtime/cluster's meter.go): the same on every node at the same
	// applied index, what the cluster's usage report signs, unlike
	// knhk_accelerator_* (the calls this node ran itself).
	usageAccelSecondsDesc = prometheus.NewDesc("knhk_usage_accelerator_seconds", "Seconds kernel calls ran on an accelerator this month (UTC), counted from the replicated log: what the usage report carries.", []string{"month"}, nil)
	usageAccelCallsDesc   = prometheus.NewDesc("knhk_usage_accelerator_calls", "Kernel calls an accelerator ran this month (UTC), counted from the replicated log.", []string{"month"}, nil)
)

type raftCollector struct{ a *ClusterAPI }

func (raftCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{raftLeaderDesc, raftAppliedDesc, raftCommitDesc, raftTermDesc, usageAccelSecondsDesc, usageAccelCallsDesc} {
		ch <- d
	}
}

func (c raftCollector) Collect(ch chan<- prometheus.Metric) {
	n := c.a.n
	leader := 0.0
	if n.IsLeader() {
		leader = 1
	}
	applied, _ := n.FSM().Applied()
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	gauge(raftLeaderDesc, leader)
	gauge(raftAppliedDesc, float64(applied))
	gauge(raftCommitDesc, float64(n.Raft().CommitIndex()))
	if term, err := strconv.ParseUint(n.Raft().Stats()["term"], 10, 64); err == nil {
		gauge(raftTermDesc, float64(term))
	}
	month := cluster.UsageMonth(time.Now().UnixNano())
	acc := n.FSM().AccelMonth(month)
	ch <- prometheus.MustNewConstMetric(usageAccelSecondsDesc, prometheus.GaugeValue, time.Duration(acc.NS).Seconds(), month)
	ch <- prometheus.MustNewConstMetric(usageAccelCallsDesc, prometheus.GaugeValue, float64(acc.Calls), month)
}
