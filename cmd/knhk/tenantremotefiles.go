// This file implements a tenant's public files through knhk tenant
// create|set --server URL: its trust directory (--trust, --policy) and
// its licence (--license, --license-trust) are read and checked here
// exactly as with --data (tenantkeys.go), then sent to the cluster,
// whose leader checks them again and commits them with the registry in
// one OpTenant change, so that every node reopens the tenant with them.
// Only public files travel: a tenant's signing key (--sign-key) is
// private and is refused with --server.

package main

import (
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/sign"
	"github.com/knhk/knhk/server/tenant"
)

// tenantFileParts are the parts of a tenant's directory that
// knhk tenant --server replaces: a part given replaces what the tenant
// had there (an empty part removes it).
var tenantFileParts = []string{"trust", "license.lic", "license-trust"}

// remoteTenantFiles reads and checks the files kf names for tenant id,
// through tenantKeyFlags.apply into a scratch directory: the files by
// slash path under the tenant's directory, and the parts they replace.
func remoteTenantFiles(e *env, id string, kf *tenantKeyFlags) (files map[string][]byte, replace []string, err error) {
	tmp, err := os.MkdirTemp("", "knhk-tenant-")
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(tmp)
	k := *kf
	k.policy = "" // the policy travels as such (tenantAdminRequest.Policy)
	if err := k.apply(e, tmp, &tenant.Tenant{ID: id}); err != nil {
		return nil, nil, err
	}
	root := filepath.Dir(tenant.LicensePath(tmp, id))
	files = map[string][]byte{}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if kf.trust != "" {
		replace = append(replace, "trust")
	}
	if kf.license != "" {
		replace = append(replace, "license.lic", "license-trust")
	}
	return files, replace, err
}

// inPart returns the part of tenantFileParts slash path rel (under a
// tenant's directory) is in, "" for none.
func inPart(rel string) string {
	for _, p := range tenantFileParts {
		if rel == p || strings.HasPrefix(rel, p+"/") {
			return p
		}
	}
	return ""
}

// checkTenantFiles refuses files and parts a request may not carry:
// paths outside the parts it replaces, or that the cluster does not
// replicate (private keys among them), and a bad policy.
func checkTenantFiles(q *tenantAdminRequest) error {
	if (len(q.Files) > 0 || len(q.Replace) > 0 || q.Policy != "") && q.Op != "create" && q.Op != "set" {
		return fmt.Errorf("files and a policy are for create and set, not %s", q.Op)
	}
	for _, p := range q.Replace {
		if !slices.Contains(tenantFileParts, p) {
			return fmt.Errorf("unknown part %q of a tenant's files (want %s)", p, strings.Join(tenantFileParts, ", "))
		}
	}
	for rel := range q.Files {
		full := q.ID + "/" + rel
		if err := cluster.CheckTenancyPath(full); err != nil {
			return err
		}
		if part := inPart(rel); part == "" || !slices.Contains(q.Replace, part) || !mirrored(full) {
			return fmt.Errorf("tenant file %q: not a file of the parts it replaces (%s)", rel, strings.Join(q.Replace, ", "))
		}
	}
	if q.Policy != "" {
		if _, err := sign.ParsePolicy(q.Policy); err != nil {
			return fmt.Errorf("policy: %v", err)
		}
	}
	return nil
}

// applyTenantFiles puts q's files into the change ch of tenant t from
// the tenancy files have, and moves t's revision so that every node
// reopens it with them. It checks first, in a scratch directory laid
// out as a node's, that the licence verifies and names t and that the
// trust directory's keys load, as each node will when it reopens t.
func applyTenantFiles(ch *cluster.TenancyChange, have map[string][]byte, t *tenant.Tenant, q *tenantAdminRequest) error {
	if len(q.Replace) == 0 && q.Policy == "" {
		return nil
	}
	id := t.ID
	next := map[string][]byte{}
	for p, b := range have {
		if rel, ok := strings.CutPrefix(p, id+"/"); ok && !slices.Contains(q.Replace, inPart(rel)) {
			next[p] = b
		} else if ok {
			ch.Remove = append(ch.Remove, p)
		}
	}
	for rel, b := range q.Files {
		next[id+"/"+rel] = b
		ch.Files[id+"/"+rel] = b
	}
	slices.Sort(ch.Remove)
	if q.Policy != "" {
		t.Policy = q.Policy
	}
	t.Revision++
	if err := checkTenantDir(next, t, nil); err != nil {
		return &adminError{code: http.StatusBadRequest, err: err}
	}
	return nil
}

// checkDeployedTrusted refuses a trust directory given to tenant t that
// had none, when this node's replica of t's group holds deployed
// programs the new trust does not admit (no signature file for them in
// it): a node reopening t's group replays the deploys since its last
// snapshot under the new trust, would refuse those, and would stop at
// their next command. A leader that does not host t's group cannot
// tell and lets it through (docs/tenancy.md).
func (ct *clusterTenants) checkDeployedTrusted(tn cluster.Tenancy, ch *cluster.TenancyChange, t *tenant.Tenant, q *tenantAdminRequest) error {
	if ch == nil || !slices.Contains(q.Replace, "trust") || hasPath(tn.Files, t.ID+"/trust") {
		return nil
	}
	ct.mu.Lock()
	g := ct.groups[t.ID]
	ct.mu.Unlock()
	if g == nil {
		return nil
	}
	deployed := g.n.FSM().Deployed()
	if len(deployed) == 0 {
		return nil
	}
	next := map[string][]byte{}
	for p, b := range tn.Files {
		if strings.HasPrefix(p, t.ID+"/") && !slices.Contains(ch.Remove, p) {
			next[p] = b
		}
	}
	for p, b := range ch.Files {
		if strings.HasPrefix(p, t.ID+"/") {
			next[p] = b
		}
	}
	return checkTenantDir(next, t, func(verify cluster.DeployVerifier) error {
		if verify == nil {
			return nil
		}
		for _, d := range deployed {
			if err := verify(d.Hash, nil); err != nil {
				return &adminError{code: http.StatusPreconditionFailed, err: fmt.Errorf("tenant %s deployed %s (program %.12s, raft index %d) before it had a trust directory, and the new one does not admit it: every node would refuse it when it replays the tenant's log. Put its signature in the trust directory (knhk sign --key KEY %s; the .sig beside the keys), or give the trust directory to a new tenant", t.ID, d.Name, d.Hash, d.Index, d.Name)}
			}
		}
		return nil
	})
}

// checkTenantDir opens t's licence and trust from files (t's files by
// tenancy path) as a node reopening t does, and, when use is not nil,
// hands it the trust's deploy check (nil without a trust directory)
// while the files are still there (the check reads *.sig afresh).
func checkTenantDir(files map[string][]byte, t *tenant.Tenant, use func(cluster.DeployVerifier) error) error {
	tmp, err := os.MkdirTemp("", "knhk-tenant-check-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for p, b := range files {
		full := filepath.Join(tenant.Dir(tmp), filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(full, b, 0o600); err != nil {
			return err
		}
	}
	c := *t
	reg := &tenant.Registry{Version: 1, Tenants: []*tenant.Tenant{&c}}
	if err := reg.Save(tmp); err != nil {
		return err
	}
	verify, err := tenantDeployVerifier(tmp, t.ID)
	if err != nil {
		return err
	}
	if _, err = tenantLicenseGate(tmp, t.ID, slog.New(slog.DiscardHandler)); err != nil {
		return err
	}
	if use != nil {
		return use(verify)
	}
	return nil
}
