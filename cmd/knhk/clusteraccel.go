// This file implements accelerator metering on a cluster node (knhk
// serve --node, each tenant's raft group under --node --tenants, and
// --bft): the group's steps and its API's queries share one runtime/meter
// Accelerator over the process's device, as a single knhk serve's
// (licenseaccel.go), so that their kernel calls are metered to the
// tenant whose cases they run, into this node's ledger beside the
// group's log and the group's /metrics, and kept on the CPU when the
// tenant's licence does not include the accelerator or its month's
// accelerator time is spent. Each node meters the calls it runs itself
// (the leader's steps, its own queries): a ledger is this node's.

package main

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/license"
	"github.com/knhk/knhk/server/auth"
)

// openClusterAccel meters the kernel calls of a group whose data
// directory on this node is dir, for tenant (empty: the default
// tenant), under gate's licence when gate is not nil; its metrics go on
// reg when reg is not nil.
func openClusterAccel(dir, tenant string, gate *cluster.LicenseGate, reg prometheus.Registerer, logger *slog.Logger) (*serveAccel, error) {
	if tenant == "" {
		tenant = auth.DefaultTenant
	}
	var l *license.License
	if gate != nil {
		l = gate.Enforcer().License()
	}
	a, err := newServeAccel(dir, tenant, l, logger)
	if err != nil {
		return nil, err
	}
	if reg != nil {
		a.register(reg)
	}
	return a, nil
}

// gateOf is the node's licence gate (nil without --license).
func (g *nodeGate) gateOf() *cluster.LicenseGate {
	if g == nil {
		return nil
	}
	return g.g
}
