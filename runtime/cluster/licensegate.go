// This file implements a licence enforced on a cluster (knhk serve
// --node --license, and each tenant's licence with --tenants): the
// leader decides every start and deploy before it proposes it, counting
// from its FSM, which holds every committed entry once the leader has
// passed its barrier. So the decision depends only on the replicated
// log (and the starts the leader admitted that have not committed yet),
// never on what one node happened to run or count, and a new leader
// goes on counting where the old one stopped.

package cluster

import (
	"time"

	"github.com/knhk/knhk/runtime/license"
)

// LicenseGate applies a licence's starts and deploys limits to a node.
type LicenseGate struct {
	enf   *license.Enforcer
	fsm   *FSM
	meter *Meter
}

// NewLicenseGate returns the gate of e; set its AdmitStart and
// AdmitDeploy as the node's (Config) and [LicenseGate.Attach] it to the
// node once made.
func NewLicenseGate(e *license.Enforcer) *LicenseGate { return &LicenseGate{enf: e} }

// Enforcer returns the gate's Enforcer.
func (g *LicenseGate) Enforcer() *license.Enforcer { return g.enf }

// Attach counts n's cases and transitions: concurrent cases are the
// cases of its FSM that have not ended, transitions those its FSM
// committed this month.
func (g *LicenseGate) Attach(n *Node) {
	g.fsm = n.FSM()
	g.meter = NewMeter(g.fsm)
	fsm := g.fsm
	g.enf.Running = func() int { return len(fsm.Cases(true)) }
}

// AdmitStart admits a new case of workflow or refuses it with a
// *license.LimitError naming the limit; running cases are never
// touched.
func (g *LicenseGate) AdmitStart(workflow string) (func(), error) {
	if g.meter != nil && g.enf.License().Limits.TransitionsPerMonth != nil {
		month := license.Month(g.now())
		u, err := g.meter.Month(month)
		if err != nil {
			return nil, err
		}
		g.enf.SeedTransitions(month, u.Transitions)
	}
	return g.enf.AdmitStart(workflow)
}

// AdmitDeploy admits a deploy of program hash within the programs
// limit, counting the programs the log deployed.
func (g *LicenseGate) AdmitDeploy(hash string) error {
	if g.fsm != nil {
		for _, d := range g.fsm.Deployed() {
			g.enf.Deployed(d.Hash)
		}
	}
	return g.enf.AdmitDeploy(hash)
}

func (g *LicenseGate) now() time.Time {
	if g.enf.Now != nil {
		return g.enf.Now()
	}
	return time.Now()
}
