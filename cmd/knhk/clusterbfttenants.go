// This file implements knhk serve --bft HOME --tenants: the tenants of
// knhk tenant on a CometBFT chain. Unlike the raft mode's group per
// tenant, every tenant is a space of the one chain (runtime/cluster/bft
// space.go): every event transaction names its tenant, and every
// validator applies it to that tenant's own FSM only, once the chain's
// tenancy has created the tenant. The tenancy itself (registry, issuers'
// keys, revocations) is the cluster's own space's, changed by the
// driver's committed tenancy transactions, and administered through any
// validator as on a raft node (clustertenantadmin.go): a validator that
// does not drive forwards the change to the lease holder.
//
// A tenant's licence (knhk tenant create --license) is a file of the
// tenancy, and every validator decides each start of the tenant's space
// by it (runtime/cluster/bft licence.go).
//
// A tenant created with --encrypt is sealed on the chain, and knhk
// tenant erase crypto-shreds it on every validator (clusterbftseal.go).
// What is not offered with --bft, and refused rather than half done:
// erasing one case, and tenants' signed deploys (a tenant's space runs
// the validators' program; the chain's own deploys are checked against
// the genesis's keys, clusterbftdeploy.go).
// The cluster's audit chain is the chain's (auditbft.go).

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"time"

	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/cluster/bft"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/worker"
	"github.com/knhk/knhk/server"
	"github.com/knhk/knhk/server/tenant"
)

// bftOwner is a validator as the holder of the tenancy: it commits
// changes while it drives, and names the driver otherwise.
type bftOwner struct {
	name string
	app  *bft.App
	sb   *bft.Standby // nil for a validator that never drives
}

func (o *bftOwner) FSM() *cluster.FSM { return o.app.FSM() }
func (o *bftOwner) ID() string        { return o.name }

func (o *bftOwner) driver() *bft.Driver {
	if o.sb == nil {
		return nil
	}
	return o.sb.Driver()
}

func (o *bftOwner) IsLeader() bool { return o.driver() != nil }

func (o *bftOwner) Leader() (id, api string) {
	l := o.app.Lease()
	return l.Driver, l.API
}

// NotLeader is a retryable refusal, as the raft node's: the admin
// answers 503 with retry set.
func (o *bftOwner) NotLeader() error {
	id, api := o.Leader()
	return &cluster.NotLeaderError{ID: id, API: api}
}

func (o *bftOwner) ChangeTenancy(ctx context.Context, reqID string, c *cluster.TenancyChange) (uint64, error) {
	d := o.driver()
	if d == nil {
		return 0, o.NotLeader()
	}
	return d.Commit(ctx, &cluster.Command{Op: cluster.OpTenant, ReqID: reqID, Tenancy: c})
}

// bftTenantsConfig is what a validator's tenants are made with.
type bftTenantsConfig struct {
	flags  *tenantFlags
	o      *serveOptions
	owner  *bftOwner
	comp   *compiled
	sec    server.ClusterSecurity
	height func() int64
	logger *slog.Logger
}

// openBFTTenants opens the tenants of the validator's chain: the host
// authenticates every call and hands a tenant's to the API of its space.
func openBFTTenants(cfg bftTenantsConfig) (*clusterTenants, error) {
	if cfg.sec.Token == "" {
		return nil, errors.New("--tenants with --bft needs --token-file: the token the validators call each other with, and the default tenant's admin")
	}
	ct := &clusterTenants{token: cfg.sec.Token, data: cfg.o.data, groups: map[string]*tenantGroup{}, stop: func() {}, own: cfg.owner, bft: true, client: cfg.sec.Client()}
	verifier, rebuild, err := replicatedVerifier(cfg.flags, cfg.o.data, cfg.sec.Token, cfg.logger)
	if err != nil {
		return nil, err
	}
	h, err := tenant.NewHost(tenant.Options{
		Data:         cfg.o.data,
		Verifier:     verifier,
		MaxBody:      cfg.o.maxBody,
		RequireNonce: cfg.flags.requireNonce,
		NodeToken:    cfg.sec.Token,
		OpenGroup: func(id, _ string, admit func(string) (func(), error)) (tenant.Group, error) {
			return openBFTSpace(cfg, id)
		},
		Logf: func(format string, args ...any) { cfg.logger.Info(fmt.Sprintf(format, args...)) },
	})
	if err != nil {
		return nil, err
	}
	ct.host = h
	// knhk case erase --all (POST /erase?tenant=) is knhk tenant erase's
	// tenancy change, committed through the driver (clustererase.go);
	// one case's erasure is refused by the space (server/clusterbfterase.go).
	h.SetGroupEraser(ct.eraseGroup)
	if ct.aud, err = openServeAudit(&tenantServe{host: h}, cfg.o.data, nil); err != nil {
		h.Close(context.Background())
		return nil, err
	}
	// The actions the cluster decides go into the chain's audit chain
	// (auditbft.go); reads stay in the validator's own log.
	ct.aud.cluster = &bftAudit{own: cfg.owner, client: ct.client, token: ct.token, key: nodeAuditKey(cfg.o.data, cfg.owner.name)}
	ctx, cancel := context.WithCancel(context.Background())
	ct.stop = cancel
	go keepTenancy(ctx, cfg.owner, cfg.o.data, false, 250*time.Millisecond, rebuild, cfg.logger)
	return ct, nil
}

// bftSpace is a tenant's space on this validator (a tenant.Group).
type bftSpace struct {
	app  *bft.App
	name string // the validator's
	id   string
	api  *server.BFTAPI
}

// openBFTSpace serves tenant id's space of the chain on the validator.
func openBFTSpace(cfg bftTenantsConfig, id string) (*bftSpace, error) {
	if ok, _ := tenant.Exists(tenant.TrustDir(cfg.o.data, id)); ok {
		return nil, fmt.Errorf("tenant %s: its signed deploys are not checked by a CometBFT validator (a tenant's space deploys nothing on the chain); serve it with --node", id)
	}
	o := cfg.owner
	api := server.NewBFTTenantAPI(o.name, id, o.app, o.sb, cfg.height, cfg.comp.prog)
	api.MaxBody = cfg.o.maxBody
	// The front authenticated the call; forwarding to the driver keeps
	// the caller's credential, which the driver's front checks again.
	api.Secure(server.ClusterSecurity{RootCAs: cfg.sec.RootCAs, VouchToken: cfg.sec.Token})
	return &bftSpace{app: o.app, name: o.name, id: id, api: api}, nil
}

func (s *bftSpace) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == usagePath && r.Method == http.MethodGet {
		serveUsage(w, r, bftUsage{name: s.name, app: s.app, tenant: s.id}, s.id) // clusterbftusage.go
		return
	}
	s.api.ServeHTTP(w, withOneTimeKeys(r)) // into the chain with the call's first transaction (clusterreplay.go)
}

// Running counts the tenant's running cases (its MaxRunning quota).
func (s *bftSpace) Running() int { return s.app.Space(s.id).Running() }

// Close stops serving the space here; the chain keeps it.
func (s *bftSpace) Close(context.Context) error { return nil }

// bftTenantWorker returns the task worker of tenant id's space: its
// files under the validator's home.
func bftTenantWorker(home, file string, comp *compiled, lines interface{ Write([]byte) (int, error) }) func(string) engine.Worker {
	return func(id string) engine.Worker {
		return worker.New(comp.prog, worker.Options{DataDir: filepath.Join(home, "tenants", id), BaseDir: filepath.Dir(file), Log: lines})
	}
}

// bftAdminRefused refuses, on a validator, what a tenant's space does
// not offer: a trust directory of signed deploys, which no validator
// would check (a tenant's space deploys nothing), and sealing and
// erasure on a validator whose home has no seal root (one written
// before knhk cluster bft-init wrote seal roots). A licence is taken:
// every validator enforces it from the chain (runtime/cluster/bft
// licence.go); a sealed tenant's events are sealed in the blocks and
// erase destroys every validator's key (clusterbftseal.go).
func bftAdminRefused(q *tenantAdminRequest, own tenancyOwner) error {
	if slices.Contains(q.Replace, "trust") || q.Policy != "" {
		return fmt.Errorf("tenant %s: a tenant's trust directory (signed deploys) is not checked by a CometBFT validator: a tenant's space deploys nothing on the chain, it runs the validators' program (the chain's own deploys are checked against its genesis's keys, knhk cluster bft-init --trust); give it with --node", q.ID)
	}
	if q.Op != "erase" && !q.Encrypt {
		return nil
	}
	if o, ok := own.(*bftOwner); !ok || !o.app.Seals() {
		return fmt.Errorf("tenant %s: sealing and erasure need the validators' seal root (%s in each home, written by knhk cluster bft-init since sealed tenants), which this validator's home lacks", q.ID, bft.SealRootFile)
	}
	return nil
}

// bftSpaceState says how tenant id's space stands on this validator.
func bftSpaceState(own tenancyOwner, id string) string {
	o, ok := own.(*bftOwner)
	if !ok {
		return ""
	}
	f := o.app.Space(id)
	return fmt.Sprintf("space on the chain of %s (%d cases, %d running)", o.name, len(f.Cases(false)), f.Running())
}

// bftSpaceLive says, from the validator's copy of the tenancy, whether a
// tenant's space is still served: not once the tenant is deleted. Nil
// without --tenants (no space is then served at all).
func bftSpaceLive(o *serveOptions) func(string) bool {
	if !o.tenants.on {
		return nil
	}
	return func(id string) bool {
		reg, err := tenant.Load(o.data)
		if err != nil {
			return true // keep driving; the front refuses the calls
		}
		t := reg.Get(id)
		return t == nil || t.State != tenant.Deleted
	}
}
