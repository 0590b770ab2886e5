// This file implements signed deploys on a raft cluster: knhk serve
// --node --trust DIR admits only deploys of the cluster's own cases
// signed by a key in DIR, and with --tenants a tenant with a trust
// directory (knhk tenant set --trust) only deploys signed by one of its
// keys, as on a single knhk serve. The signature the deploy carried goes
// into the group's log with the source; the leader checks it before it
// proposes the deploy and every replica before it compiles it
// (runtime/cluster's DeployVerifier), against the tenant's trust
// directory, which every node copies from the founding node.

package main

import (
	"fmt"
	"os"

	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/sign"
	"github.com/knhk/knhk/server/tenant"
)

// tenantDeployVerifier returns the deploy check of tenant id's group:
// nil when the tenant has no trust directory. The trusted keys are
// read once, when the group opens; a signature file dropped in the
// directory (NAME.sig) admits its program as on a single server.
func tenantDeployVerifier(data, id string) (cluster.DeployVerifier, error) {
	dir := tenant.TrustDir(data, id)
	ok, err := tenant.Exists(dir)
	if err != nil || !ok {
		return nil, err
	}
	policy := "classical" // as openTenantSecurity
	reg, err := tenant.Load(data)
	if err != nil {
		return nil, err
	}
	if t := reg.Get(id); t != nil && t.Policy != "" {
		policy = t.Policy
	}
	v, err := trustVerifier(dir, policy)
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w", id, err)
	}
	return v, nil
}

// nodeDeployVerifier returns the deploy check of the cluster's own
// cases: nil without --trust. Every node must be given the same keys.
func nodeDeployVerifier(o *serveSign) (cluster.DeployVerifier, error) {
	if o.trust == "" {
		return nil, nil
	}
	v, err := trustVerifier(o.trust, o.policy)
	if err != nil {
		return nil, fmt.Errorf("--trust: %w", err)
	}
	return v, nil
}

// trustVerifier is the deploy check of the trust directory dir,
// admitting signatures of class policy or stronger.
func trustVerifier(dir, policy string) (cluster.DeployVerifier, error) {
	p, err := sign.ParsePolicy(policy)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%s: want a directory of *.pub keys and *.sig signatures", dir)
	}
	ts, err := sign.LoadTrustDir(dir)
	if err != nil {
		return nil, err
	}
	s := &serveSigning{trust: ts, policy: p, dir: dir}
	return s.trustedCarried, nil
}
