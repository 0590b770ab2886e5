// This file implements knhk serve --node ID --tenants: the tenants of
// knhk tenant on a raft cluster. Each tenant is a raft group of its own
// on the cluster's nodes (runtime/cluster: GroupMux, Follow), so every
// node serves every tenant, a tenant's cases, programs and queues are
// replicated in its own log, and a tenant's calls reach only its group.
//
// Why a group per tenant rather than the tenant's id in every command
// of one log: the cluster's API, console, history, queues and deploys
// (package server, runtime/cluster) all work on one node's FSM, and a
// group per tenant reuses all of them unchanged, isolated by
// construction as a single server's tenants are by directory; a
// tenant's snapshot, log and erasure are its own; one tenant's burst of
// commands does not queue behind another's in one log. The cost is a
// raft instance per tenant per node: a log, a heartbeat per follower
// per heartbeat interval when busy (hashicorp/raft sends none while
// idle beyond the leader's), and a few goroutines, all sharing the
// node's one raft listener. Tens to a few hundred tenants per node fit;
// thousands would want tenants multiplexed in one group.
//
// The tenants' registry is replicated through the cluster's own raft
// log (clustertenancy.go, clustertenantadmin.go): knhk tenant --server
// administers it through any node. A tenant's group is born on one
// node, as a group of one: the node that committed the tenant's
// creation (the cluster's leader then), which the replicated tenancy
// records as the tenant's founder, so that every node agrees which one
// bootstraps it and no two nodes start two histories of one tenant.
// Its leader adds the cluster's other nodes (Follow); until the founder
// has opened a new tenant's group, the tenant has no leader and its
// calls answer "unavailable". Tenants migrated from a founding node's
// own registry are founded by that node, as they always were.

package main

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/license"
	"github.com/knhk/knhk/runtime/queue"
	"github.com/knhk/knhk/runtime/worker"
	"github.com/knhk/knhk/server"
	"github.com/knhk/knhk/server/auth"
	"github.com/knhk/knhk/server/console"
	"github.com/knhk/knhk/server/metrics"
	"github.com/knhk/knhk/server/tenant"
)

// groupStatusPrefix is the route of a tenant group's local status on a
// node, /cluster/v1/groups/ID/status: what the group's leader asks a
// member before it promotes it. It needs the cluster's --token-file
// token (the nodes' own credential), never a tenant's.
const groupStatusPrefix = "/cluster/v1/groups/"

// usagePath is a tenant's usage of a month as its group's log records
// it: GET /cluster/v1/usage?month=2006-01 (default: this month), the
// same on every node that applied the same index.
const usagePath = "/cluster/v1/usage"

// clusterTenants are a node's tenants.
type clusterTenants struct {
	host  *tenant.Host
	token string
	data  string
	// stop ends the writing of the replicated tenancy to disk
	// (clustertenancy.go).
	stop context.CancelFunc
	// own is the node of the cluster's own group, whose log replicates
	// the tenancy (a validator's chain with --bft: clusterbfttenants.go);
	// client calls its leader.
	own tenancyOwner
	// bft is set on a CometBFT validator: the tenants are spaces of its
	// chain, not raft groups.
	bft    bool
	client *http.Client
	// aud is the node's own audit log of the calls it answered itself
	// (auditserve.go); the actions the cluster decides are in the
	// cluster's chain (auditcluster.go).
	aud *serveAudit

	mu     sync.Mutex
	groups map[string]*tenantGroup
}

// tenancyOwner is what holds the replicated tenancy and commits its
// changes: the raft node of the cluster's own group, or a CometBFT
// validator (clusterbfttenants.go).
type tenancyOwner interface {
	FSM() *cluster.FSM
	ID() string
	// IsLeader says whether this node commits changes itself; Leader
	// names the one that does and where its API answers.
	IsLeader() bool
	Leader() (id, api string)
	NotLeader() error
	ChangeTenancy(ctx context.Context, reqID string, c *cluster.TenancyChange) (uint64, error)
}

// clusterTenantsConfig is what a node's tenants are made with.
type clusterTenantsConfig struct {
	flags    *tenantFlags
	o        *serveOptions
	c        *clusterServeOptions
	comp     *compiled
	file     string // the program FILE
	own      *cluster.Node
	mux      *cluster.GroupMux
	sec      server.ClusterSecurity
	api      string
	labels   map[string]string
	logger   *slog.Logger
	lines    io.Writer
	founding bool // started without --join
}

// openClusterTenants opens the tenants of --data on the node: every
// tenant the registry lists gets its raft group on this node.
func openClusterTenants(cfg clusterTenantsConfig) (*clusterTenants, error) {
	if cfg.sec.Token == "" {
		return nil, errors.New("--tenants with --node needs --token-file: the token the nodes call each other with, and the default tenant's admin")
	}
	ct := &clusterTenants{token: cfg.sec.Token, data: cfg.o.data, groups: map[string]*tenantGroup{}, stop: func() {}}
	verifier, reverify, err := replicatedVerifier(cfg.flags, cfg.o.data, cfg.sec.Token, cfg.logger)
	if err != nil {
		return nil, err
	}
	rebuild := func() {
		ct.sweep(cfg)
		reverify()
	}
	ct.own, ct.client = cfg.own, cfg.sec.Client()
	h, err := tenant.NewHost(tenant.Options{
		Data:         cfg.o.data,
		Verifier:     verifier,
		MaxBody:      cfg.o.maxBody,
		RequireNonce: cfg.flags.requireNonce,
		NodeToken:    cfg.sec.Token, // vouches for a forwarded session's or certificate's principal
		OpenGroup: func(id, _ string, admit func(string) (func(), error)) (tenant.Group, error) {
			g, err := openTenantGroup(cfg, id, admit)
			if err != nil {
				return nil, err
			}
			ct.mu.Lock()
			ct.groups[id] = g
			ct.mu.Unlock()
			return g, nil
		},
		Closed: func(id string) {
			ct.mu.Lock()
			g := ct.groups[id]
			delete(ct.groups, id)
			ct.mu.Unlock()
			if g == nil {
				return
			}
			// A deleted tenant's replica on this node goes with it, its
			// key destroyed first (clustererase.go).
			if reg, err := tenant.Load(cfg.o.data); err == nil {
				if t := reg.Get(id); t == nil || t.State == tenant.Deleted {
					if err := shredGroup(g.dir); err != nil {
						cfg.logger.Warn(fmt.Sprintf("tenant %s: %v", id, err))
					}
				}
			}
		},
		Logf: func(format string, args ...any) { cfg.logger.Info(fmt.Sprintf(format, args...)) },
	})
	if err != nil {
		return nil, err
	}
	ct.host = h
	h.SetGroupEraser(ct.eraseGroup) // clustererase.go
	if ct.aud, err = openServeAudit(&tenantServe{host: h}, cfg.o.data, nil); err != nil {
		h.Close(context.Background())
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	ct.stop = cancel
	go keepTenancy(ctx, cfg.own, cfg.o.data, cfg.founding, 250*time.Millisecond, rebuild, cfg.logger)
	return ct, nil
}

// sweep shreds the replicas on this node of the deleted tenants whose
// group is not open here (the node was down when they were deleted or
// erased); an open one is shredded when the host closes it.
func (ct *clusterTenants) sweep(cfg clusterTenantsConfig) {
	reg, err := tenant.Load(cfg.o.data)
	if err != nil {
		return
	}
	for _, t := range reg.Tenants {
		if t.State != tenant.Deleted {
			continue
		}
		dir := cfg.groupDir(t.ID)
		ct.mu.Lock()
		open := ct.groups[t.ID] != nil
		ct.mu.Unlock()
		if _, err := os.Stat(dir); open || err != nil {
			continue
		}
		if err := shredGroup(dir); err != nil {
			cfg.logger.Warn(fmt.Sprintf("tenant %s: %v", t.ID, err))
		}
	}
}

// replicatedVerifier returns the verifier of a node's tenants' tokens:
// the issuers' public keys of its copy of the replicated tenancy, and
// reverify, which rebuilds it whenever the tenancy moves (keeping the
// last keys when the new ones do not load).
func replicatedVerifier(flags *tenantFlags, data, token string, logger *slog.Logger) (*swapVerifier, func(), error) {
	is, err := clusterIssuers(flags, data, token)
	if err != nil {
		return nil, nil, err
	}
	verifier := &swapVerifier{}
	verifier.p.Store(is)
	reverify := func() {
		is, err := clusterIssuers(flags, data, token)
		if err != nil {
			logger.Warn(fmt.Sprintf("tenants: the replicated issuer keys: %v (keeping the last ones)", err))
			return
		}
		verifier.p.Store(is)
	}
	return verifier, reverify, nil
}

// front returns the node's handler: the tenants' front over def, the
// cluster's own API (the default tenant's), and the groups' status for
// the other nodes.
func (ct *clusterTenants) front(def http.Handler) http.Handler {
	ct.host.SetDefault(def)
	var admin http.Handler
	if ct.bft {
		// Into the chain's audit chain (auditbft.go).
		admin = ct.host.AuditedRoute(ct.aud.log, ct.aud.cluster, http.HandlerFunc(ct.serveAdmin))
	} else {
		admin = ct.auditCluster(ct.serveAdmin) // auditcluster.go
	}
	audited := ct.aud.front(ct.host)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rest, ok := strings.CutPrefix(r.URL.Path, groupStatusPrefix); ok {
			ct.groupStatus(w, r, rest)
			return
		}
		if r.URL.Path == tenantsPath {
			admin.ServeHTTP(w, r) // clustertenantadmin.go, audited
			return
		}
		audited.ServeHTTP(w, r)
	})
}

// groupStatus answers a node's probe of tenant group id's status here.
func (ct *clusterTenants) groupStatus(w http.ResponseWriter, r *http.Request, rest string) {
	if !bearerIs(r, ct.token) {
		server.WriteError(w, r, connect.CodeUnauthenticated, "a tenant group's status needs the cluster's token")
		return
	}
	id, ok := strings.CutSuffix(rest, "/status")
	ct.mu.Lock()
	g := ct.groups[id]
	ct.mu.Unlock()
	if !ok || g == nil || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	st, err := g.n.Status()
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(st)
}

// bearerIs reports whether r's bearer token is token, compared in
// constant time: the nodes' own routes (a group's status, the tenancy,
// the usage) need the cluster's token.
func bearerIs(r *http.Request, token string) bool {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return subtle.ConstantTimeCompare([]byte(tok), []byte(token)) == 1
}

// close closes the tenants' groups on this node.
func (ct *clusterTenants) close(ctx context.Context) error {
	if ct == nil {
		return nil
	}
	ct.stop()
	err := ct.host.Close(ctx)
	return errors.Join(err, ct.aud.close(ctx))
}

// tenantGroup is a tenant's raft group on this node (a tenant.Group).
type tenantGroup struct {
	id     string
	dir    string
	n      *cluster.Node
	api    *server.ClusterAPI
	acc    *serveAccel // the tenant's kernel calls on this node
	cancel context.CancelFunc
}

// groupDir is this node's directory of tenant id's raft group,
// DIR/cluster/NODE/tenants/ID.
func (cfg clusterTenantsConfig) groupDir(id string) string {
	return filepath.Join(cfg.o.data, "cluster", cfg.c.node, "tenants", id)
}

// openTenantGroup starts tenant id's raft group on the node: its log
// under DIR/cluster/NODE/tenants/ID, its transport on the node's raft
// listener, the tenant's licence (DIR/tenants/ID/license) enforced by
// its leader, and its API, console and metrics.
func openTenantGroup(cfg clusterTenantsConfig, id string, admit func(string) (func(), error)) (*tenantGroup, error) {
	dir := cfg.groupDir(id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	bootstrap, err := foundsGroup(cfg, id)
	if err != nil {
		return nil, err
	}
	// A tenant that admits only signed deploys: the group's leader and
	// every replica check the signature each deploy carries
	// (clusterdeploysign.go).
	verifyDeploy, err := tenantDeployVerifier(cfg.o.data, id)
	if err != nil {
		return nil, err
	}
	if ok, _ := tenant.Exists(tenant.SignKeyPath(cfg.o.data, id)); ok {
		cfg.logger.Warn(fmt.Sprintf("tenant %s: its signing key is not used with --node (a cluster writes no receipts yet)", id))
	}
	gate, err := tenantLicenseGate(cfg.o.data, id, cfg.logger)
	if err != nil {
		return nil, err
	}
	// A tenant created with --encrypt has this node's copy of its group
	// sealed at rest, so that its erasure crypto-shreds it
	// (clustererase.go).
	var atRest cluster.Sealer
	if reg, err := tenant.Load(cfg.o.data); err != nil {
		return nil, err
	} else if t := reg.Get(id); t != nil && t.Encrypt {
		if atRest, err = openGroupSealer(dir); err != nil {
			return nil, fmt.Errorf("tenant %s: its key at rest: %w", id, err)
		}
	}
	m := metrics.New(metrics.Options{})
	// Kernel calls, the steps' and the queries', on the node's
	// accelerator only while the tenant's licence allows one (its tier,
	// its month's accelerator time), metered to the tenant, as serve
	// --tenants (clusteraccel.go); on the CPU the results are the same.
	acc, err := openClusterAccel(dir, id, gate, m.Registry(), cfg.logger)
	if err != nil {
		return nil, err
	}
	eval := &host.Evaluator{Kernels: acc.m}
	admitStart, admitDeploy := admit, (func(string) error)(nil)
	if gate != nil {
		admitStart, admitDeploy = bothAdmit(admit, gate.AdmitStart), gate.AdmitDeploy
	}
	tr, err := cfg.mux.Transport(id, cfg.lines)
	if err != nil {
		return nil, err
	}
	q := cluster.NewQueue(queue.Options{Lease: cfg.o.lease})
	base := filepath.Dir(cfg.file)
	workerFor := func(p *ir.Program) engine.Worker {
		return m.Worker(worker.New(p, worker.Options{DataDir: dir, BaseDir: base, Log: cfg.lines, Queue: q}))
	}
	n, err := cluster.NewNode(cluster.Config{
		ID: cfg.c.node, API: cfg.api, Labels: cfg.labels, Dir: dir, Bootstrap: bootstrap,
		Program: cfg.comp.prog, Eval: eval, Worker: workerFor(cfg.comp.prog), WorkerFor: workerFor, Queue: q,
		Compile: server.ClusterCompile, Transport: tr, Voters: cfg.c.voters, LogOutput: cfg.lines,
		Prober:     cfg.sec.StatusProber(groupStatusPrefix+id+"/status", "tenant "+id),
		AdmitStart: admitStart, AdmitDeploy: admitDeploy, AtRest: atRest, VerifyDeploy: verifyDeploy,
		Accel: acc.m, // the tenant's kernel time into its group's log (runtime/cluster meter.go)
	})
	if err != nil {
		tr.Close()
		return nil, err
	}
	if gate != nil {
		gate.Attach(n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go n.Follow(ctx, cfg.own)
	go forwardAccel(ctx, n, acc, id, cfg.sec) // a follower's kernel time to its leader's log (clusteraccel.go)
	countAccelFromLog(acc, n)                 // the licence's accelerator_seconds_per_month: the log's month
	api := server.NewClusterAPI(n, cfg.comp.prog)
	api.MaxBody = cfg.o.maxBody
	// The front authenticated the call; forwarding keeps the caller's
	// token, which the leader's front checks again.
	api.Secure(server.ClusterSecurity{RootCAs: cfg.sec.RootCAs, VouchToken: cfg.sec.Token})
	api.Sources = map[string]map[int32]*source.File{n.ProgramHash(): cfg.comp.files}
	api.Kernels = acc.m // the tenant's queries are metered as its steps
	health := new(metrics.Health)
	api.MountMetrics(m, health)
	m.Registry().MustRegister(usageCollector{cluster.NewMeter(n.FSM())})
	console.Mount(api.ConsoleMux(), api)
	health.Ready()
	return &tenantGroup{id: id, dir: dir, n: n, api: api, acc: acc, cancel: cancel}, nil
}

// foundsGroup reports whether this node bootstraps tenant id's group:
// the node the replicated tenancy names as its founder. Before the
// tenancy was ever replicated (a founding node's own registry, not
// migrated yet) it is the cluster's founding node. A node whose replica
// has not caught up with the tenant's creation yet (it opens the
// tenants of its last copy at a restart, while raft replays its log)
// waits for it rather than guess: a wrong guess could start a second
// history of the tenant.
func foundsGroup(cfg clusterTenantsConfig, id string) (bool, error) {
	deadline := time.Now().Add(time.Minute)
	for {
		fsm := cfg.own.FSM()
		if f := fsm.Founder(id); f != "" {
			return f == cfg.c.node, nil
		}
		if fsm.TenancyRev() == 0 && !tenant.Replicated(cfg.o.data) {
			return cfg.founding, nil
		}
		if time.Now().After(deadline) {
			return false, fmt.Errorf("tenant %s: this node's replica of the cluster's tenancy names no founder of its group yet (is it behind?)", id)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ServeHTTP answers the tenant's calls (the front refuses membership
// calls: membership is the cluster's, never a tenant's).
func (g *tenantGroup) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == usagePath && r.Method == http.MethodGet {
		serveUsage(w, r, g.n, g.id) // as this node's replica of the tenant's log holds it
		return
	}
	g.api.ServeHTTP(w, withOneTimeKeys(r)) // clusterreplay.go
}

// withUsage serves usagePath for the cluster's own cases (the default
// tenant's) in front of h, behind token when there is one.
func withUsage(h http.Handler, n usageLog, token string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != usagePath || r.Method != http.MethodGet {
			h.ServeHTTP(w, withOneTimeKeys(r)) // clusterreplay.go
			return
		}
		if token != "" && !bearerIs(r, token) {
			server.WriteError(w, r, connect.CodeUnauthenticated, "missing or wrong bearer token")
			return
		}
		serveUsage(w, r, n, auth.DefaultTenant)
	})
}

// Running counts the tenant's cases that have not ended (the FSM counts
// them without listing them: the MaxRunning quota asks on every start).
func (g *tenantGroup) Running() int { return g.n.FSM().Running() }

// Close stops the group on this node.
func (g *tenantGroup) Close(context.Context) error {
	g.cancel()
	err := g.n.Close()
	return errors.Join(err, g.acc.close())
}

// tenantLicenseGate reads tenant id's licence, when it has one, as knhk
// serve --tenants does (tenantkeys.go), for its group's leader to
// enforce.
func tenantLicenseGate(data, id string, logger *slog.Logger) (*cluster.LicenseGate, error) {
	ok, err := tenant.Exists(tenant.LicensePath(data, id))
	if err != nil || !ok {
		return nil, err
	}
	lf := licenseFlags{file: tenant.LicensePath(data, id), trust: tenant.LicenseTrustDir(data, id)}
	if ok, _ := tenant.Exists(lf.trust); !ok {
		lf.trust = ""
	}
	l, err := lf.load(time.Now())
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w", id, err)
	}
	if l.Tenant != "" && l.Tenant != id {
		return nil, fmt.Errorf("tenant %s: licence %s is for tenant %s", id, lf.file, l.Tenant)
	}
	if l.At(time.Now()) == license.Expired {
		logger.Error(fmt.Sprintf("tenant %s: licence %s: %s; new starts and deploys are refused until it is renewed", id, lf.file, l.Describe(time.Now())))
	}
	enf := license.NewEnforcer(l)
	enf.Warn = func(msg string) { logger.Warn(msg) }
	return cluster.NewLicenseGate(enf), nil
}

// usageCollector exports this month's usage as the tenant's log records
// it: equal on every node that applied the same index.
type usageCollector struct{ m *cluster.Meter }

var (
	usageCasesDesc       = prometheus.NewDesc("knhk_usage_cases", "Cases started this month (UTC), counted from the tenant's replicated log.", []string{"month"}, nil)
	usageTransitionsDesc = prometheus.NewDesc("knhk_usage_transitions", "Transitions fired this month (UTC), counted from the tenant's replicated log: what transitions_per_month limits.", []string{"month"}, nil)
	usageEventsDesc      = prometheus.NewDesc("knhk_usage_events", "Events committed this month (UTC) to the tenant's replicated log.", []string{"month"}, nil)
	usageBytesDesc       = prometheus.NewDesc("knhk_usage_storage_bytes", "Bytes of this month's (UTC) events and their case ids in the tenant's replicated log.", []string{"month"}, nil)
)

func (usageCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- usageCasesDesc
	ch <- usageTransitionsDesc
	ch <- usageEventsDesc
	ch <- usageBytesDesc
}

func (c usageCollector) Collect(ch chan<- prometheus.Metric) {
	month := cluster.UsageMonth(time.Now().UnixNano())
	u, err := c.m.Month(month)
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(usageCasesDesc, prometheus.GaugeValue, float64(u.Cases), month)
	ch <- prometheus.MustNewConstMetric(usageTransitionsDesc, prometheus.GaugeValue, float64(u.Transitions), month)
	ch <- prometheus.MustNewConstMetric(usageEventsDesc, prometheus.GaugeValue, float64(u.Events), month)
	ch <- prometheus.MustNewConstMetric(usageBytesDesc, prometheus.GaugeValue, float64(u.StorageBytes), month)
}
