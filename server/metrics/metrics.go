// This file implements Metrics: the registry and the collectors the
// hooks feed.

package metrics

import (
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/knhk/knhk/runtime/engine"
)

// Metrics holds the collectors of one server on a registry of its own.
// Its hooks are safe for concurrent use; the zero value is not ready,
// use [New].
type Metrics struct {
	reg *prometheus.Registry

	events      *prometheus.CounterVec
	eventByKind []prometheus.Counter // by engine.EventKind, resolved once
	transitions prometheus.Counter

	taskDur *prometheus.HistogramVec

	fsync       prometheus.Histogram
	batch       prometheus.Histogram
	commitBytes prometheus.Counter
}

// Options configures [New].
type Options struct {
	// NoProcess leaves out the Go runtime's and the process's collectors
	// (go_*, process_*), whose values no test can predict.
	NoProcess bool
}

// TaskBuckets are the bounds, in seconds, of knhk_task_duration_seconds:
// from an in-process call (under a millisecond) to a slow external
// worker (minutes).
var TaskBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}

// FsyncBuckets are the bounds, in seconds, of knhk_store_fsync_seconds:
// from a battery-backed cache (tens of microseconds) to a saturated disk.
var FsyncBuckets = []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}

// BatchBuckets are the bounds of knhk_store_commit_records: powers of two
// up to 4096 records per group commit.
var BatchBuckets = prometheus.ExponentialBuckets(1, 2, 13)

// New returns Metrics with every collector registered.
func New(o Options) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.events = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "knhk_events_total",
		Help: "Events committed to the event log, by kind.",
	}, []string{"kind"})
	// Every kind the engine names is exported from the start, at 0, so
	// that rate() sees the first event of a kind.
	m.eventByKind = []prometheus.Counter{nil} // EvInvalid is never committed
	for k := engine.EventKind(1); !strings.HasPrefix(k.String(), "event("); k++ {
		m.eventByKind = append(m.eventByKind, m.events.WithLabelValues(k.String()))
	}
	m.transitions = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "knhk_transitions_total",
		Help: "Transitions fired (fire and timer events); its rate is transitions per second.",
	})
	m.taskDur = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "knhk_task_duration_seconds",
		Help:    "Duration of one attempt of a task or kernel call; queue is empty unless the task runs on an external queue.",
		Buckets: TaskBuckets,
	}, []string{"task", "queue", "outcome"})
	m.fsync = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "knhk_store_fsync_seconds",
		Help:    "Duration of the fsync of one group commit of the event log.",
		Buckets: FsyncBuckets,
	})
	m.batch = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "knhk_store_commit_records",
		Help:    "Records written by one group commit (one fsync) of the event log.",
		Buckets: BatchBuckets,
	})
	m.commitBytes = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "knhk_store_commit_bytes_total",
		Help: "Bytes written to the event log by group commits.",
	})
	m.reg.MustRegister(m.events, m.transitions, m.taskDur, m.fsync, m.batch, m.commitBytes)
	if !o.NoProcess {
		m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	return m
}

// Registry returns the registry the collectors are on, for tests and
// for a program that embeds the server and adds its own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text (or, on request,
// OpenMetrics) format. A collector that fails is reported in the
// response and the rest is still served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError, Registry: m.reg})
}
