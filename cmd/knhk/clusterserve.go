// This file implements "knhk serve --node ID": one node of a replicated
// cluster (runtime/cluster on hashicorp/raft) serving the cluster's HTTP
// API for the cases of one program.

package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/raft"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/queue"
	"github.com/knhk/knhk/runtime/worker"
	"github.com/knhk/knhk/server"
	"github.com/knhk/knhk/server/console"
	"github.com/knhk/knhk/server/metrics"
)

// clusterServeOptions are the flags of knhk serve that make it a node.
type clusterServeOptions struct {
	node, raft, join, labels string
	advertise                string
	voters                   int
	tlsCert, tlsKey, tlsCA   string
	bft                      string // the validator home of --bft
	drive                    bool
	fs                       *flag.FlagSet // to refuse single-node flags
}

// on reports whether serve runs as a cluster node or a validator.
func (c *clusterServeOptions) on() bool { return c.node != "" || c.bft != "" }

// clusterFlags are the flags of knhk serve that a node honours; the
// others (receipts, parking, tenants) belong to single-node serve and are refused with --node
// rather than ignored.
var clusterFlags = map[string]bool{"data": true, "listen": true, "max-body": true, "log-format": true, "log-level": true,
	"tls-cert": true, "tls-key": true, "token-file": true,
	"node": true, "raft": true, "raft-advertise": true, "join": true, "labels": true, "voters": true, "raft-tls-cert": true, "raft-tls-key": true, "raft-tls-ca": true,
	"bft": true, "drive": true, "license": true, "license-trust": true, "lease": true,
	// --trust on a raft node: signed deploys (clusterdeploysign.go).
	"trust": true, "policy": true,
	// --tenants on a raft node (clustertenants.go) and a validator (clusterbfttenants.go).
	"tenants": true, "auth-keys": true, "auth-issuer": true, "auth-audience": true, "auth-trust": true, "require-nonce": true, "tls-client-ca": true}

// clusterServeFlags defines the cluster flags of knhk serve.
func clusterServeFlags(fs *flag.FlagSet) *clusterServeOptions {
	c := &clusterServeOptions{fs: fs}
	fs.StringVar(&c.node, "node", "", "run as cluster node `ID` (never reuse an id), serving the program FILE")
	fs.StringVar(&c.raft, "raft", "127.0.0.1:7300", "with --node: raft listens on `ADDR`")
	fs.StringVar(&c.advertise, "raft-advertise", "", "with --node: the raft `ADDR` the other nodes dial, when not --raft's (a proxy or NAT in front of the node; not with --raft-tls-*)")
	fs.StringVar(&c.join, "join", "", "with --node: join the cluster whose node answers at `URL` (without it, a new cluster starts)")
	fs.StringVar(&c.labels, "labels", "", "with --node: node labels `K=V,...` (region=R places voters)")
	fs.IntVar(&c.voters, "voters", 3, "with --node: how many voters the leader keeps")
	fs.StringVar(&c.tlsCert, "raft-tls-cert", "", "with --node: raft over mutual TLS with this certificate `FILE`")
	fs.StringVar(&c.tlsKey, "raft-tls-key", "", "with --node: the key `FILE` of --raft-tls-cert")
	fs.StringVar(&c.tlsCA, "raft-tls-ca", "", "with --node: the CA certificate `FILE` peers' certificates must chain to")
	fs.StringVar(&c.bft, "bft", "", "run as the CometBFT validator of `HOME` (knhk cluster bft-init writes homes), serving the program FILE")
	fs.BoolVar(&c.drive, "drive", false, "with --bft: this validator may drive (run the engine and take writes) while the committed lease names it; every --drive validator is a standby")
	return c
}

func runClusterServe(e *env, o *serveOptions, c *clusterServeOptions, args []string) int {
	if len(args) != 1 {
		return usageError(e, "with --node or --bft, name the program FILE the cluster runs (got %d arguments)", len(args))
	}
	if c.node != "" && c.bft != "" {
		return usageError(e, "give --node (raft) or --bft (CometBFT), not both")
	}
	var refused []string
	c.fs.Visit(func(f *flag.Flag) {
		if !clusterFlags[f.Name] {
			refused = append(refused, "--"+f.Name)
		}
	})
	if len(refused) > 0 {
		return usageError(e, "%s: not supported with --node or --bft (docs/cluster.md says what a node does)", strings.Join(refused, ", "))
	}
	if (o.cert == "") != (o.key == "") {
		return usageError(e, "give --tls-cert and --tls-key together")
	}
	if c.bft != "" {
		if !o.tenants.on && (o.tenants.keys != "" || o.tenants.issuer != "" || o.tenants.audience != "" || o.tenants.signers != "" || o.tenants.requireNonce) {
			return usageError(e, "--auth-keys, --auth-issuer, --auth-audience, --auth-trust and --require-nonce need --tenants")
		}
		if o.tenants.clientCAFile != "" && (!o.tenants.on || o.cert == "") {
			return usageError(e, "--tls-client-ca needs --tenants and --tls-cert")
		}
		if err := bftServeTrust(c.fs, &o.sign, c.bft); err != nil { // clusterbftdeploy.go
			return usageError(e, "%v", err)
		}
		return runBFTServe(e, o, c, args[0])
	}
	if o.lease <= 0 {
		return usageError(e, "--lease must be positive, got %v", o.lease)
	}
	if c.voters < 1 {
		return usageError(e, "--voters must be at least 1, got %d", c.voters)
	}
	if (c.tlsCert == "") != (c.tlsKey == "") || (c.tlsCert == "") != (c.tlsCA == "") {
		return usageError(e, "give --raft-tls-cert, --raft-tls-key and --raft-tls-ca together")
	}
	if c.advertise != "" {
		if c.tlsCert != "" {
			return usageError(e, "--raft-advertise is not supported with --raft-tls-*")
		}
		if _, err := net.ResolveTCPAddr("tcp", c.advertise); err != nil {
			return usageError(e, "--raft-advertise %q: %v", c.advertise, err)
		}
	}
	labels, err := cluster.ParseLabels(c.labels)
	if err != nil {
		return usageError(e, "--labels: %v", err)
	}
	verifyDeploy, err := nodeDeployVerifier(&o.sign) // --trust (clusterdeploysign.go)
	if err != nil {
		return usageError(e, "%v", err)
	}
	logger, comp, code := clusterProgram(e, o, args[0])
	if comp == nil {
		return code
	}
	admitJoin, err := clusterLicense(&o.license, c.join == "")
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	gate, err := clusterLicenseGate(&o.license, logger)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	sec, ok := clusterAPISecurity(e, o)
	if !ok {
		return exitUser
	}
	switch {
	case o.tenants.on && sec.Token == "":
		return usageError(e, "--tenants with --node needs --token-file: the token the nodes call each other with, and the default tenant's admin")
	case !o.tenants.on && (o.tenants.keys != "" || o.tenants.issuer != "" || o.tenants.audience != "" || o.tenants.signers != "" || o.tenants.requireNonce):
		return usageError(e, "--auth-keys, --auth-issuer, --auth-audience, --auth-trust and --require-nonce need --tenants")
	}
	var tlsCfg *tls.Config
	if c.tlsCert != "" {
		if tlsCfg, err = cluster.MutualTLS(c.tlsCert, c.tlsKey, c.tlsCA); err != nil {
			fmt.Fprintf(e.stderr, "knhk: %v\n", err)
			return exitUser
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, api, err := listenNodeAPI(o)
	if err != nil {
		logger.Error(err.Error())
		return exitUser
	}
	dir := filepath.Join(o.data, "cluster", c.node)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	lines := metrics.LineWriter(logger, slog.LevelWarn)
	defer lines.Close()
	// With --tenants every tenant's raft group shares the node's raft
	// listener (clustertenants.go).
	var gmux *cluster.GroupMux
	var trans raft.Transport
	if o.tenants.on {
		if tlsCfg != nil {
			gmux, err = cluster.ListenTLSGroupMux(c.raft, tlsCfg)
		} else {
			gmux, err = cluster.ListenTCPGroupMux(c.raft, c.advertise)
		}
		if err == nil {
			trans, err = gmux.Transport("", lines)
		}
		if err != nil {
			ln.Close()
			fmt.Fprintf(e.stderr, "knhk: raft transport on %s: %v\n", c.raft, err)
			return exitUser
		}
		defer gmux.Close() // after the node's Close
	}
	// The leader's broker of queue tasks (workers poll any node).
	q := cluster.NewQueue(queue.Options{Lease: o.lease})
	m := metrics.New(metrics.Options{})
	health := new(metrics.Health)
	// The node's steps and queries meter their kernel calls into its
	// ledger and /metrics, under --license's limits (clusteraccel.go).
	acc, err := openClusterAccel(dir, "", gate.gateOf(), m.Registry(), logger)
	if err != nil {
		ln.Close()
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	defer func() {
		if err := acc.close(); err != nil {
			logger.Error(err.Error())
		}
	}() // after the node's Close
	n, err := cluster.NewNode(cluster.Config{
		ID: c.node, Raft: c.raft, Advertise: c.advertise, API: api, Labels: labels, Dir: dir, Bootstrap: c.join == "",
		Program: comp.prog, Eval: &host.Evaluator{Kernels: acc.m}, TLS: tlsCfg, Voters: c.voters, LogOutput: lines, AdmitJoin: admitJoin,
		Worker: m.Worker(worker.New(comp.prog, worker.Options{DataDir: o.data, BaseDir: filepath.Dir(args[0]), Log: lines, Queue: q})), Queue: q,
		// Deploys are log commands every node compiles through the gate.
		Compile:    server.ClusterCompile,
		Prober:     sec.Prober(),                                       // reads peers' status with the token, over TLS
		Transport:  trans,                                              // nil without --tenants: the node listens itself
		AdmitStart: gate.admitStart(), AdmitDeploy: gate.admitDeploy(), // --license: the leader decides
		VerifyDeploy: verifyDeploy, // --trust: the leader and every replica check
		Accel:        acc.m,        // kernel time into the log with its commands (runtime/cluster meter.go)
		WorkerFor: func(p *ir.Program) engine.Worker {
			return m.Worker(worker.New(p, worker.Options{DataDir: o.data, BaseDir: filepath.Dir(args[0]), Log: lines, Queue: q}))
		},
	})
	if err != nil {
		ln.Close()
		fmt.Fprintf(e.stderr, "knhk: node %s: %v\n", c.node, err)
		return exitUser
	}
	defer n.Close()
	gate.attach(n)
	h := server.NewClusterAPI(n, comp.prog)
	h.MaxBody = o.maxBody
	h.Secure(sec) // --token-file, and the client that forwards to the leader
	h.Sources = map[string]map[int32]*source.File{n.ProgramHash(): comp.files}
	h.Kernels = acc.m                                                    // queries meter their kernel calls as the steps do
	h.MountMetrics(m, health)                                            // /metrics, /healthz, /readyz
	console.Mount(h.ConsoleMux(), h)                                     // the web console at /, as on a single knhk serve
	m.Registry().MustRegister(usageCollector{cluster.NewMeter(n.FSM())}) // knhk_usage_*, from the log
	// /cluster/v1/usage: the month's usage of the cluster's own log.
	var handler http.Handler = withUsage(h, n, sec.Token)
	var tenants *clusterTenants
	if o.tenants.on {
		tenants, err = openClusterTenants(clusterTenantsConfig{flags: &o.tenants, o: o, c: c, comp: comp, file: args[0], own: n, mux: gmux, sec: sec,
			api: api, labels: labels, logger: logger, lines: lines, founding: c.join == ""})
		if err != nil {
			ln.Close()
			fmt.Fprintf(e.stderr, "knhk: %v\n", err)
			return exitUser
		}
		defer tenants.close(context.Background())
		handler = tenants.front(handler)
	}
	// A follower's queries' kernel time goes to the leader's log (clusteraccel.go).
	handler = withAccel(handler, sec.Token, func(g string) *cluster.Node { return tenants.groupNode(n, g) })
	defer startAccelForward(n, acc, sec)()
	countAccelFromLog(acc, n) // --license's accelerator_seconds_per_month: the log's month
	health.Ready()
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	// HTTP/2 cleartext too, as knhk serve: workers' WorkTasks streams.
	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetHTTP2(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	if err := o.tenants.clientCA(srv, o.cert != ""); err != nil { // --tls-client-ca: tenantserve.go
		ln.Close()
		return usageError(e, "%v", err)
	}
	serveErr := make(chan error, 1)
	go func() {
		if o.cert != "" {
			serveErr <- srv.ServeTLS(ln, o.cert, o.key)
		} else {
			serveErr <- srv.Serve(ln)
		}
	}()
	if c.join != "" {
		if err := joinCluster(ctx, sec.Client(), c.join, cluster.Member{ID: c.node, Raft: n.RaftAddr(), API: api, Labels: labels}, n.ProgramHash()); err != nil {
			srv.Close()
			fmt.Fprintf(e.stderr, "knhk: joining %s: %v\n", c.join, err)
			return exitUser
		}
	}
	logger.Info(fmt.Sprintf("node %s (raft %s) listening on %s", c.node, n.RaftAddr(), api), "node", c.node, "raft", n.RaftAddr(), "url", api)
	select {
	case err = <-serveErr:
	case <-ctx.Done():
	}
	health.Draining()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Error(err.Error())
		return exitUser
	}
	return exitOK
}

// joinCluster asks the cluster at url to add m, retrying while it has
// no leader; a refusal (another program, a reused id) is final.
func joinCluster(ctx context.Context, client *http.Client, url string, m cluster.Member, program string) error {
	body, _ := json.Marshal(server.ClusterJoinRequest{Member: m, Program: program})
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, resp, err := nodeCall(ctx, client, http.MethodPost, url, "/cluster/v1/members", body, "")
		if err == nil && code == http.StatusOK {
			return nil
		}
		if err == nil && code != http.StatusServiceUnavailable {
			return errors.New(errorText(resp))
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.New(errorText(resp))
			}
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// clusterProgram makes the logger and compiles file through the
// soundness gate, the start that a raft member and a BFT validator
// share. On failure comp is nil and code is the exit status, the
// message already written.
func clusterProgram(e *env, o *serveOptions, file string) (*slog.Logger, *compiled, int) {
	logger, err := metrics.NewLogger(e.stderr, o.logFormat, o.logLevel)
	if err != nil {
		return nil, nil, usageError(e, "%v", err)
	}
	comp, code := compileFile(e, file)
	if comp == nil {
		return nil, nil, code
	}
	if !soundGate(e, comp) {
		return nil, nil, exitUser
	}
	return logger, comp, exitOK
}
