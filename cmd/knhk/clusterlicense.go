// This file implements --license on a raft node's own cases (knhk serve
// --node --license): besides cluster_size (clusterLicense), the
// licence's programs, concurrent cases, transitions per month and
// expiry limit the cluster's starts and deploys, decided by the leader
// before it proposes them, counting from its FSM (runtime/cluster
// LicenseGate), so that every leader decides from the same log.

package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/license"
)

// nodeGate is a node's licence gate; nil without --license.
type nodeGate struct{ g *cluster.LicenseGate }

// clusterLicenseGate reads --license (verified again: clusterLicense
// checked it already) for the node's starts and deploys.
func clusterLicenseGate(o *licenseFlags, logger *slog.Logger) (*nodeGate, error) {
	l, err := o.load(time.Now())
	if err != nil || l == nil {
		return nil, err
	}
	if l.At(time.Now()) == license.Expired {
		logger.Error(fmt.Sprintf("licence %s: %s; new starts and deploys are refused until it is renewed (running cases go on)", o.file, l.Describe(time.Now())))
	}
	enf := license.NewEnforcer(l)
	enf.Warn = func(msg string) { logger.Warn(msg) }
	return &nodeGate{cluster.NewLicenseGate(enf)}, nil
}

func (g *nodeGate) admitStart() func(string) (func(), error) {
	if g == nil {
		return nil
	}
	return g.g.AdmitStart
}

func (g *nodeGate) admitDeploy() func(string) error {
	if g == nil {
		return nil
	}
	return g.g.AdmitDeploy
}

// attach counts n's cases and transitions.
func (g *nodeGate) attach(n *cluster.Node) {
	if g != nil {
		g.g.Attach(n)
	}
}
