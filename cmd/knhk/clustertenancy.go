// This file implements the tenancy of a raft cluster (knhk serve
// --node --tenants) on each node's disk: the cluster replicates its
// tenants' registry and the public files that verify and limit their
// calls through its own raft log (runtime/cluster: OpTenant, Tenancy),
// and every node writes its replica's copy into DIR/tenants whenever
// it moves, where the tenant host (server/tenant) reads it as a single
// server reads its own. What travels: the registry, the issuers' public
// keys (each node's own, and a migrated founding node's), licences and
// their trust keys, revocation lists, the tenants' public keys and
// trust directories; never a private key (each node issues tokens with
// its own key, whose public key alone the cluster replicates), a
// tenant's single-server data directory, or a node's own replay state.
//
// Migration: a cluster whose founding node administered its tenants on
// its own disk (before the tenancy was replicated, when the other nodes
// copied it over HTTP) keeps them: while the replicated tenancy is
// empty, the founding node, once it leads, commits its DIR/tenants to
// the log as the tenancy's first revision. From then on the log is the
// truth, and knhk tenant --server changes it through any node.

package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/server/auth"
	"github.com/knhk/knhk/server/tenant"
)

// tenancy is the mirrored files of DIR/tenants by slash path.
type tenancy struct {
	Files map[string][]byte `json:"files"`
}

// mirrored reports whether the file at slash path rel under DIR/tenants
// travels to the other nodes.
func mirrored(rel string) bool {
	if !fs.ValidPath(rel) || rel == "." {
		return false
	}
	parts := strings.Split(rel, "/")
	base := parts[len(parts)-1]
	switch {
	case strings.HasSuffix(base, ".key"), strings.HasSuffix(base, ".tmp"):
		return false // private keys stay on the node that made them
	case len(parts) == 1:
		return base == "tenants.json" || base == "issuer.pub" || base == "issuer-pq.pub" || base == nodeIssuers
	case tenant.CheckID(parts[0]) != nil:
		return false
	case len(parts) == 2:
		return base == "revoked.json" || base == "revoked-certs.json" || base == "license.lic" || base == "sign.pub"
	default:
		return len(parts) == 3 && (parts[1] == "license-trust" || parts[1] == "trust")
	}
}

// readTenancy reads the mirrored files of data's DIR/tenants.
func readTenancy(data string) (*tenancy, error) {
	t := &tenancy{Files: map[string][]byte{}}
	root := tenant.Dir(data)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (strings.Count(rel, "/") >= 2 || strings.HasSuffix(rel, "/data")) {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !mirrored(rel) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		t.Files[rel] = b
		return nil
	})
	return t, err
}

// applyTenancy makes data's mirrored files t's: changed and new files
// first, the registry last (so that a server sees a tenant's licence
// before the registry that reopens it), then those t no longer has.
func applyTenancy(data string, t *tenancy) (changed bool, err error) {
	have, err := readTenancy(data)
	if err != nil {
		return false, err
	}
	root := tenant.Dir(data)
	names := make([]string, 0, len(t.Files))
	for n := range t.Files {
		if n != "tenants.json" {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	if _, ok := t.Files["tenants.json"]; ok {
		names = append(names, "tenants.json")
	}
	for _, n := range names {
		b := t.Files[n]
		if old, ok := have.Files[n]; ok && bytes.Equal(old, b) {
			continue
		}
		p := filepath.Join(root, filepath.FromSlash(n))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return changed, err
		}
		if err := writeTenantFile(p, b, 0o600); err != nil {
			return changed, err
		}
		changed = true
	}
	for n := range have.Files {
		if _, ok := t.Files[n]; !ok {
			if err := os.Remove(filepath.Join(root, filepath.FromSlash(n))); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return changed, err
			}
			changed = true
		}
	}
	return changed, nil
}

// apiURL is a node's API address as a URL without a trailing slash
// (http:// when it names no scheme).
func apiURL(addr string) string {
	addr = strings.TrimSuffix(addr, "/")
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	return addr
}

// swapVerifier is a node's verifier: rebuilt from the issuers' public
// keys whenever the tenancy changes them.
type swapVerifier struct {
	p atomic.Pointer[auth.Issuers]
}

func (s *swapVerifier) Verify(token string) (auth.Principal, error) { return s.p.Load().Verify(token) }

// nodeIssuers is the tenancy's file of the nodes' own issuer public
// keys (PEM blocks): a node adds its key with the first token it
// issues, in the same commit, so that every node that applied it
// verifies the token.
const nodeIssuers = "issuers.pub"

// nodeIssuerKey returns node's own token-signing key,
// DIR/cluster/NODE/issuer.key, making it on first use. It never leaves
// the node; its public key is replicated in nodeIssuers.
func nodeIssuerKey(data, node string) (ed25519.PrivateKey, error) {
	dir := filepath.Join(data, "cluster", node)
	return tenant.IssuerKeyAt(filepath.Join(dir, "issuer.key"), filepath.Join(dir, "issuer.pub"))
}

// clusterIssuers is publicIssuers with the nodes' own issuer keys of
// the tenancy's copy in data.
func clusterIssuers(f *tenantFlags, data, token string) (*auth.Issuers, error) {
	is, err := publicIssuers(f, data, token)
	if err != nil {
		return nil, err
	}
	p := filepath.Join(tenant.Dir(data), nodeIssuers)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return is, nil
	}
	if err != nil {
		return nil, err
	}
	keys, err := auth.ParseKeys(p, b)
	if err != nil {
		return nil, err
	}
	v := is.ByIssuer[tenant.Issuer]
	v.Keys = append(v.Keys, keys...)
	return is, nil
}

// materialise writes the replicated tenancy tn into data's DIR/tenants
// (the files a node reads as a single server reads its own) and marks
// the registry a cluster's copy. A file the tenancy holds but no node
// mirrors is left out, and said so: the log is written only by nodes
// that check what they propose.
func materialise(data string, tn cluster.Tenancy, logger *slog.Logger) (bool, error) {
	t := &tenancy{Files: make(map[string][]byte, len(tn.Files))}
	for p, b := range tn.Files {
		if !mirrored(p) {
			logger.Warn(fmt.Sprintf("tenants: the replicated tenancy holds %q, which is not a file a node keeps; skipped", p))
			continue
		}
		t.Files[p] = b
	}
	if err := os.MkdirAll(tenant.Dir(data), 0o700); err != nil {
		return false, err
	}
	changed, err := applyTenancy(data, t)
	if err != nil {
		return changed, err
	}
	return changed, tenant.MarkReplicated(data)
}

// keepTenancy writes own's replica of the tenancy into data whenever it
// moves, until ctx ends, calling changed after a write that changed a
// file and after the first. On the founding node (founding) it first
// migrates: while the tenancy is empty and the node leads, it commits
// the tenants of its own DIR/tenants as the tenancy's first revision,
// each founded by itself (as they were).
func keepTenancy(ctx context.Context, own tenancyOwner, data string, founding bool, interval time.Duration, changed func(), logger *slog.Logger) {
	var done uint64
	var failing string
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
		rev := own.FSM().TenancyRev()
		var err error
		switch {
		case rev == 0 && founding && own.IsLeader():
			err = seedTenancy(ctx, own, data)
		case rev != 0 && rev != done:
			var ch bool
			ch, err = materialise(data, own.FSM().Tenancy(), logger)
			if ch || err == nil && done == 0 {
				// The first write after a start counts as a change:
				// what the node missed while down (a tenant erased)
				// is acted on even when its copy was already current.
				changed()
			}
			if err == nil {
				done = rev
			}
		}
		switch {
		case err != nil && err.Error() != failing:
			failing = err.Error()
			logger.Warn(fmt.Sprintf("tenants: %v", err))
		case err == nil && failing != "":
			failing = ""
			logger.Info("tenants: the replicated tenancy is written again")
		}
	}
}

// seedTenancy commits data's own tenancy as the cluster's first, when
// it has one (the migration of a cluster that mirrored it).
func seedTenancy(ctx context.Context, own tenancyOwner, data string) error {
	t, err := readTenancy(data)
	if err != nil || len(t.Files) == 0 {
		return err
	}
	reg, err := tenant.ParseRegistry(t.Files["tenants.json"])
	if err != nil {
		return fmt.Errorf("migrating the registry: %w", err)
	}
	founders := map[string]string{}
	for _, tt := range reg.Tenants {
		founders[tt.ID] = own.ID()
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = own.ChangeTenancy(ctx, "tenancy-seed-"+own.ID(), &cluster.TenancyChange{Files: t.Files, Founders: founders})
	if errors.Is(err, cluster.ErrConflict) {
		return nil // another change came first: the tenancy is the log's
	}
	return err
}
