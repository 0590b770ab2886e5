// This file implements accelerator metering under knhk serve: each
// tenant's (and the default tenant's) kernel calls go through a
// runtime/meter Accelerator over the process's device runner, which
// times the calls the device takes into the data directory's ledger and
// its /metrics, and keeps them on the CPU when the tenant's licence does
// not allow the accelerator or its month's accelerator time is spent.

package main

import (
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/knhk/knhk/accel"
	"github.com/knhk/knhk/runtime/license"
	"github.com/knhk/knhk/runtime/meter"
)

// serveAccel is the accelerator meter of one Service.
type serveAccel struct {
	m      *meter.Accelerator
	tenant string // the metrics' tenant label

	mu     sync.Mutex
	warned map[string]string // limit -> the month it was last logged
}

// newServeAccel meters the kernel calls of data directory data; l, when
// not nil, is the licence whose accelerator limits apply.
func newServeAccel(data, tenant string, l *license.License, logger *slog.Logger) (*serveAccel, error) {
	m, err := meter.NewAccelerator(accel.Shared(), data)
	if err != nil {
		return nil, err
	}
	a := &serveAccel{m: m, tenant: tenant, warned: map[string]string{}}
	if l != nil {
		m.Allow = func(used meter.AccelMonth) error { return l.CheckAcceleratorTime(used.NS) }
		m.Refused = func(err error) {
			// Once a month per limit: a refusal is per kernel call.
			le, _ := err.(*license.LimitError)
			name := ""
			if le != nil {
				name = le.Limit
			}
			month := meter.Month(time.Now().UnixNano())
			a.mu.Lock()
			first := a.warned[name] != month
			a.warned[name] = month
			a.mu.Unlock()
			if first {
				logger.Warn(err.Error(), "tenant", tenant)
			}
		}
	}
	return a, nil
}

// register puts the meter's metrics on reg.
func (a *serveAccel) register(reg prometheus.Registerer) {
	labels := prometheus.Labels{"tenant": a.tenant}
	for _, c := range []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "knhk_accelerator_seconds_total", Help: "Seconds kernel calls ran on an accelerator (GPU, Vulkan device) in this process.", ConstLabels: labels},
			func() float64 { return time.Duration(a.m.Total().NS).Seconds() }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "knhk_accelerator_calls_total", Help: "Kernel calls an accelerator ran in this process.", ConstLabels: labels},
			func() float64 { return float64(a.m.Total().Calls) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "knhk_accelerator_month_seconds", Help: "Seconds kernel calls ran on an accelerator this month (UTC), as the usage report and the accelerator_seconds_per_month limit count them.", ConstLabels: labels},
			func() float64 { return time.Duration(a.m.MonthUse(meter.Month(time.Now().UnixNano())).NS).Seconds() }),
	} {
		reg.MustRegister(c)
	}
}

// close writes the ledger's last calls.
func (a *serveAccel) close() error {
	if a == nil {
		return nil
	}
	return a.m.Flush()
}
