// This file implements knhk serve --license: the licence's Enforcer on
// the server's start and deploy paths and its event observer.

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/license"
	"github.com/knhk/knhk/runtime/meter"
	"github.com/knhk/knhk/runtime/store"
	"github.com/knhk/knhk/server"
	"github.com/knhk/knhk/server/auth"
	"github.com/prometheus/client_golang/prometheus"
)

// serveLicense is a licence enforced by knhk serve; nil without one.
type serveLicense struct {
	// acc meters the Service's accelerator time (licenseaccel.go); it is
	// there with or without a licence.
	acc *serveAccel
	// enf enforces the licence; nil without one.
	enf *license.Enforcer
	// tenant is the tenant of serve --tenants the licence applies to;
	// empty for the default tenant.
	tenant string
	// transitions counts, per customer and tenant, the transitions this
	// process fired: knhk_license_transitions_total.
	transitions prometheus.Counter
	// logBytes counts the bytes this process wrote to the event log:
	// knhk_license_log_bytes_total.
	logBytes prometheus.Counter
	// taskSeconds counts the time task and kernel attempts ran in this
	// process's workers: knhk_license_task_seconds_total.
	taskSeconds prometheus.Counter
}

// openServeLicense verifies --license and counts this month's
// transitions so far from the data directory's log, before the server
// opens it. Accelerator use is refused at once when the licence does not
// include it. An expired licence still serves the cases already
// running: the Enforcer refuses only new starts and deploys.
func openServeLicense(o *licenseFlags, data string, logger *slog.Logger) (*serveLicense, error) {
	l, err := o.load(time.Now())
	if err != nil {
		return nil, err
	}
	if l == nil {
		return unlicensed(data, auth.DefaultTenant, logger)
	}
	if err := checkLicensedDevice(l); err != nil {
		return nil, err
	}
	return newServeLicense(l, o.file, data, "", logger)
}

// unlicensed is the serveLicense of a Service without a licence: it
// meters accelerator time only.
func unlicensed(data, tenant string, logger *slog.Logger) (*serveLicense, error) {
	acc, err := newServeAccel(data, tenant, nil, logger)
	if err != nil {
		return nil, err
	}
	return &serveLicense{acc: acc}, nil
}

// newServeLicense enforces the verified licence l, read from file, on the
// Service of data directory data; tenant, when not empty, is the tenant
// of serve --tenants it applies to (tenantkeys.go), which its metrics
// name when the licence itself names none.
func newServeLicense(l *license.License, file, data, tenant string, logger *slog.Logger) (*serveLicense, error) {
	if l.At(time.Now()) == license.Expired {
		// The server still opens: the cases it holds run to their end;
		// only new starts and deploys are refused.
		logger.Error(fmt.Sprintf("licence %s: %s; new starts and deploys are refused until it is renewed", file, l.Describe(time.Now())))
	}
	enf := license.NewEnforcer(l)
	enf.Warn = func(msg string) { logger.Warn(msg) }
	if l.Limits.TransitionsPerMonth != nil {
		month := meter.Month(time.Now().UnixNano())
		n, err := monthTransitions(data, month)
		if err != nil {
			return nil, err
		}
		enf.SeedTransitions(month, n)
	}
	logger.Info(fmt.Sprintf("licence %s for %s, tier %s: %s", l.ID, l.Customer, l.Tier, l.Describe(time.Now())), "tenant", tenant)
	label := tenant
	if label == "" {
		label = auth.DefaultTenant
	}
	acc, err := newServeAccel(data, label, l, logger)
	if err != nil {
		return nil, err
	}
	return &serveLicense{acc: acc, enf: enf, tenant: tenant}, nil
}

// checkLicensedDevice refuses KNHK_DEVICE naming an accelerator when the
// licence does not include accelerators.
func checkLicensedDevice(l *license.License) error {
	if d := os.Getenv("KNHK_DEVICE"); d != "" && d != "cpu" {
		if err := l.CheckAccelerator(); err != nil {
			return fmt.Errorf("KNHK_DEVICE=%s: %w", d, err)
		}
	}
	return nil
}

// monthTransitions counts the transitions of month in data's log; a
// directory without a log has none.
func monthTransitions(data, month string) (int64, error) {
	if _, err := os.Stat(filepath.Join(data, "HEAD")); errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	st, err := store.OpenReadOnly(data, store.Options{})
	if err != nil {
		return 0, err
	}
	defer st.Close()
	u, err := meter.Count(context.Background(), st, month)
	return u.Transitions, err
}

// options hooks the licence into the server's options.
func (s *serveLicense) options(o server.Options) server.Options {
	if s == nil {
		return o
	}
	o.Kernels = s.acc.m
	if s.enf == nil {
		return o
	}
	o.AdmitStart = s.enf.AdmitStart
	o.AdmitDeploy = s.enf.AdmitDeploy
	s.transitions = prometheus.NewCounter(prometheus.CounterOpts{Name: "knhk_license_transitions_total",
		Help:        "Transitions fired by this process for the licensed customer (and tenant), as the licence's monthly limit counts them.",
		ConstLabels: s.labels()})
	s.logBytes = prometheus.NewCounter(prometheus.CounterOpts{Name: "knhk_license_log_bytes_total",
		Help:        "Bytes this process wrote to the event log for the licensed customer (and tenant), framing included.",
		ConstLabels: s.labels()})
	s.taskSeconds = prometheus.NewCounter(prometheus.CounterOpts{Name: "knhk_license_task_seconds_total",
		Help:        "Seconds task and kernel attempts ran in this process's workers for the licensed customer (and tenant).",
		ConstLabels: s.labels()})
	o.Observer = &licenseObserver{Observer: o.Observer, enf: s.enf, n: s.transitions, bytes: s.logBytes, task: s.taskSeconds}
	return o
}

// opened tells the Enforcer what the opened server holds: its programs,
// and how to count its running cases; and registers the licence's
// metrics on reg.
func (s *serveLicense) opened(svc *server.Service, reg prometheus.Registerer) {
	if s == nil {
		return
	}
	s.acc.register(reg)
	if s.enf == nil {
		return
	}
	s.register(reg)
	for _, p := range svc.Programs() {
		s.enf.Deployed(p.Hash)
	}
	s.enf.Running = func() int {
		n := 0
		svc.CaseCounts(func(_, status string, k int) {
			if status == "running" || status == "failing" { // failing: compensating

				n += k
			}
		})
		return n
	}
}

// close writes what the accelerator meter has not yet written; after the
// Service closed.
func (s *serveLicense) close() error {
	if s == nil {
		return nil
	}
	return s.acc.close()
}

// licenseObserver counts transitions for the monthly limit.
type licenseObserver struct {
	server.Observer
	enf   *license.Enforcer
	n     prometheus.Counter
	bytes prometheus.Counter
	task  prometheus.Counter
}

func (o *licenseObserver) Event(ev *engine.Event) {
	if ev.Kind == engine.EvFire || ev.Kind == engine.EvTimer {
		o.enf.Transition(time.Unix(0, ev.Time))
		o.n.Inc()
	}
	if o.Observer != nil {
		o.Observer.Event(ev)
	}
}

func (o *licenseObserver) Commit(c store.CommitInfo) {
	o.bytes.Add(float64(c.Bytes))
	if o.Observer != nil {
		o.Observer.Commit(c)
	}
}

func (o *licenseObserver) Worker(w engine.Worker) engine.Worker {
	if o.Observer != nil {
		w = o.Observer.Worker(w)
	}
	return &licenseWorker{w: w, seconds: o.task}
}

// licenseWorker times every attempt its worker runs.
type licenseWorker struct {
	w       engine.Worker
	seconds prometheus.Counter
}

func (l *licenseWorker) Invoke(ctx context.Context, inv engine.Invocation) (eval.Value, error) {
	start := time.Now()
	v, err := l.w.Invoke(ctx, inv)
	l.seconds.Add(time.Since(start).Seconds())
	return v, err
}

// Records and Recorded pass the engine's reports of logged outcomes
// through to the wrapped worker (engine.Recorder).
func (l *licenseWorker) Records(t *ir.Task) bool {
	r, ok := l.w.(engine.Recorder)
	return ok && r.Records(t)
}

func (l *licenseWorker) Recorded(key string, err error) {
	if r, ok := l.w.(engine.Recorder); ok {
		r.Recorded(key, err)
	}
}

// labels are the licence's customer and tenant, on every licence metric.
func (s *serveLicense) labels() prometheus.Labels {
	l := s.enf.License()
	t := l.Tenant
	if t == "" {
		t = s.tenant
	}
	return prometheus.Labels{"customer": l.Customer, "tenant": t}
}

// register puts the licence's metrics on reg: the transitions counter,
// this month's transitions as the limit sees them (the log's count when
// the server opened plus what it fired since) and the limit itself, and
// the expiry time.
func (s *serveLicense) register(reg prometheus.Registerer) {
	l := s.enf.License()
	cs := []prometheus.Collector{s.transitions, s.logBytes, s.taskSeconds,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "knhk_license_month_transitions", Help: "Transitions fired this month (UTC), counted from the event log when the server opened and since.", ConstLabels: s.labels()},
			func() float64 { _, n := s.enf.MonthTransitions(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "knhk_license_expiry_timestamp_seconds", Help: "When the licence expires (its grace period follows).", ConstLabels: s.labels()},
			func() float64 { return float64(l.Expires.Unix()) }),
	}
	if t := l.Limits.TransitionsPerMonth; t != nil {
		cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "knhk_license_month_transitions_limit", Help: "The licence's transitions_per_month limit.", ConstLabels: s.labels()},
			func() float64 { return float64(*t) }))
	}
	for _, c := range cs {
		reg.MustRegister(c)
	}
}

// clusterLicense verifies --license for a raft node (knhk serve --node)
// and returns the leader's check of each join against the licence's
// cluster_size; a node that starts a new cluster is a cluster of one.
// The licence's other limits apply to the cluster's starts and deploys
// (clusterlicense.go); a node past its licence's grace period still
// starts, so that the cluster's cases are never stranded.
func clusterLicense(o *licenseFlags, bootstrap bool) (func(nodes int) error, error) {
	l, err := o.load(time.Now())
	if err != nil || l == nil {
		return nil, err
	}
	if err := checkLicensedDevice(l); err != nil {
		return nil, err
	}
	if bootstrap {
		if err := l.CheckClusterSize(1); err != nil {
			return nil, err
		}
	}
	return l.CheckClusterSize, nil
}
