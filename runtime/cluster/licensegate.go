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
	"fmt"
	"sync"
	"time"

	"github.com/knhk/knhk/runtime/license"
)

// LicenseGate applies a licence's starts and deploys limits to a node.
type LicenseGate struct {
	enf   *license.Enforcer
	fsm   *FSM
	meter *Meter

	mu       sync.Mutex
	inflight int64 // starts admitted that have not committed (or failed) yet
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
	g.enf.Running = g.fsm.Running
}

// AdmitStart admits a new case of workflow or refuses it with a
// *license.LimitError naming the limit; running cases are never
// touched.
func (g *LicenseGate) AdmitStart(workflow string) (func(), error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	// The Enforcer recounts running cases only when its own count says
	// the limit may be near; on a cluster that count misses the cases
	// another leader started meanwhile, so the gate counts exactly
	// first: the log's running cases and the starts admitted here that
	// have not committed.
	l := g.enf.License()
	if c := l.Limits.ConcurrentCases; c != nil && g.fsm != nil {
		if running := int64(g.fsm.Running()) + g.inflight; running >= *c {
			return nil, &license.LimitError{Limit: license.LimitConcurrentCases, Max: *c, Used: running,
				Msg: fmt.Sprintf("licence limit %s (%d, tier %s) reached: %d cases are running; start of %s refused until one ends", license.LimitConcurrentCases, *c, l.Tier, running, workflow)}
		}
	}
	if g.meter != nil && l.Limits.TransitionsPerMonth != nil {
		month := license.Month(g.now())
		u, err := g.meter.Month(month)
		if err != nil {
			return nil, err
		}
		g.enf.SeedTransitions(month, u.Transitions)
	}
	release, err := g.enf.AdmitStart(workflow)
	if err != nil {
		return nil, err
	}
	g.inflight++
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			g.inflight--
			g.mu.Unlock()
			release()
		})
	}, nil
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
