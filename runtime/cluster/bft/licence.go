// This file implements a tenant's licence on the chain (knhk tenant
// create --server URL --license L --license-trust K on knhk serve --bft
// --tenants): the licence and its issuers' keys are files of the
// chain's tenancy (ID/license.lic, ID/license-trust), so every
// validator holds the same bytes, and every validator decides each
// start of the tenant's space from them, the space's committed state
// and the block's time. A Byzantine driver's start beyond the licence
// is refused by the block as any honest validator would refuse it,
// where on a raft cluster the leader alone decides.
//
// What is decided at a start: the licence verifies against its issuer
// keys and is for this tenant; it is not past its grace period at the
// block's time; the space's running cases are below concurrent_cases;
// the transitions its log committed in the block's month (UTC) are below
// transitions_per_month. Running cases are never touched.

package bft

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/license"
	"github.com/knhk/knhk/runtime/sign"
)

// ErrLicence wraps the refusal of a start by a licence on the chain (a
// *license.LimitError names the limit), and of a licence the chain does
// not take (chainlicence.go).
var ErrLicence = errors.New("refused by the licence on the chain")

// spaceLicence is a tenant's licence as the tenancy of revision rev
// holds it: nil without one, err when it does not verify.
type spaceLicence struct {
	rev uint64
	lic *license.License
	err error
}

// licenceOf returns tenant id's licence on the chain, nil when it has
// none; a.mu is held.
func (a *App) licenceOf(id string) (*license.License, error) {
	rev := a.fsm.TenancyRev()
	if c, ok := a.lics[id]; ok && c.rev == rev {
		return c.lic, c.err
	}
	lic, err := parseLicence(a.fsm.Tenancy().Files, id)
	a.lics[id] = spaceLicence{rev, lic, err}
	return lic, err
}

// parseLicence reads tenant id's licence from the tenancy's files and
// verifies it against the issuer keys beside it.
func parseLicence(files map[string][]byte, id string) (*license.License, error) {
	b, ok := files[id+"/license.lic"]
	if !ok {
		return nil, nil
	}
	l, err := license.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("tenant %s's licence on the chain: %w", id, err)
	}
	var keys []*sign.PublicKey
	trust := id + "/license-trust"
	for p, kb := range files {
		if p != trust && !(strings.HasPrefix(p, trust+"/") && strings.HasSuffix(p, ".pub")) {
			continue
		}
		k, err := sign.ParsePublicKey(kb)
		if err != nil {
			return nil, fmt.Errorf("tenant %s's licence issuer key %s: %w", id, p, err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("tenant %s's licence on the chain has no issuer key beside it (license-trust)", id)
	}
	if err := l.Verify(sign.NewTrustSet(keys...)); err != nil {
		return nil, fmt.Errorf("tenant %s's licence on the chain: %w", id, err)
	}
	if l.Tenant != "" && l.Tenant != id {
		return nil, fmt.Errorf("tenant %s's licence on the chain is for tenant %s", id, l.Tenant)
	}
	return l, nil
}

// admitStart decides the start of case c.Case in tenant's space f at
// block time now (Unix nanoseconds) by the tenant's licence, or for the
// cluster's own space by the deployment's (chainlicence.go), which also
// limits the validators with voting power (cluster_size); a.mu is held.
// An event of a case that exists is no start.
func (a *App) admitStart(tenant string, f *cluster.FSM, c *cluster.Command, now int64) error {
	if c.Op != cluster.OpEvent || c.Pos != 0 || f.Events(c.Case) > 0 {
		return nil
	}
	var l *license.License
	var err error
	if tenant == "" {
		l, err = a.deploymentLicence() // chainlicence.go
	} else {
		l, err = a.licenceOf(tenant)
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrLicence, err)
	}
	if l == nil {
		return nil
	}
	if tenant == "" {
		if err := l.CheckClusterSize(a.voting()); err != nil {
			return fmt.Errorf("%w: %w", ErrLicence, err)
		}
	}
	at := time.Unix(0, now).UTC()
	if l.At(at) == license.Expired {
		return fmt.Errorf("%w: licence %s of tenant %s %s; new starts are refused until it is renewed (running cases go on)", ErrLicence, l.ID, tenant, l.Describe(at))
	}
	refuse := func(limit string, max, used int64, format string, args ...any) error {
		return fmt.Errorf("%w: %w", ErrLicence, &license.LimitError{Limit: limit, Max: max, Used: used,
			Msg: fmt.Sprintf("licence limit %s (%d, tier %s) reached: ", limit, max, l.Tier) + fmt.Sprintf(format, args...)})
	}
	if t := l.Limits.TransitionsPerMonth; t != nil {
		month := license.Month(at)
		u, err := a.meterOf(tenant, f).Month(month)
		if err != nil {
			return err
		}
		if u.Transitions >= *t {
			return refuse(license.LimitTransitionsPerMonth, *t, u.Transitions, "%d transitions fired in %s; new starts are refused until next month (running cases go on)", u.Transitions, month)
		}
	}
	if max := l.Limits.ConcurrentCases; max != nil {
		if running := int64(f.Running()); running >= *max {
			return refuse(license.LimitConcurrentCases, *max, running, "%d cases are running; start of case %s refused until one ends", running, c.Case)
		}
	}
	return nil
}

// meterOf returns the meter of tenant's space f, counting from it
// incrementally; a.mu is held.
func (a *App) meterOf(tenant string, f *cluster.FSM) *cluster.Meter {
	m := a.meters[tenant]
	if m.m == nil || m.f != f {
		m = spaceMeter{f, cluster.NewMeter(f)}
		a.meters[tenant] = m
	}
	return m.m
}

// spaceMeter is the meter of a space's FSM f.
type spaceMeter struct {
	f *cluster.FSM
	m *cluster.Meter
}

// voting counts the validators with voting power; a.mu is held.
func (a *App) voting() int {
	n := 0
	for _, v := range a.vals {
		if v.power > 0 {
			n++
		}
	}
	return n
}
