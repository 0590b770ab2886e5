// This file implements "knhk serve --bft HOME": one CometBFT validator
// running the program's cases as an ABCI application (runtime/cluster/bft),
// and "knhk cluster bft-init", which writes the validators' homes.

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/cometbft/cometbft/rpc/client/local"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/cluster/bft"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/host"
	"github.com/knhk/knhk/runtime/worker"
	"github.com/knhk/knhk/server"
	"github.com/knhk/knhk/server/metrics"
)

func runBFTServe(e *env, o *serveOptions, c *clusterServeOptions, file string) int {
	logger, comp, code := clusterProgram(e, o, file)
	if comp == nil {
		return code
	}
	sec, ok := clusterAPISecurity(e, o) // clusterauth.go
	if !ok {
		return exitUser
	}
	lic, err := o.license.load(time.Now()) // verified here against --license-trust first
	var licFile []byte
	if err == nil && lic != nil {
		licFile, err = readSmall(o.license.file)
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	m, err := engine.NewMachine(comp.prog)
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitInternal
	}
	hash, err := comp.prog.Hash()
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitInternal
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, url, err := listenNodeAPI(o)
	if err != nil {
		logger.Error(err.Error())
		return exitUser
	}
	lines := metrics.LineWriter(logger, slog.LevelWarn)
	defer lines.Close()
	// The validator's steps (when it drives) and its queries meter
	// their kernel calls into a ledger in its home (clusteraccel.go).
	acc, err := openClusterAccel(c.bft, "", nil, nil, logger)
	if err != nil {
		ln.Close()
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	defer func() {
		if err := acc.close(); err != nil {
			logger.Error(err.Error())
		}
	}()
	app := bft.NewApp(m, hash)
	// Deploys: every validator compiles them through a raft node's
	// gate and checks their signatures against the genesis's keys
	// (clusterbftdeploy.go).
	app.SetCompiler(server.ClusterCompile)
	// Sealed tenants: their keys derive from the home's seal root
	// (clusterbftseal.go).
	if err := bftSealing(app, c.bft); err != nil {
		ln.Close()
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	node, err := bft.Open(c.bft, app, lines)
	if err != nil {
		ln.Close()
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	defer func() { node.Stop(); node.Wait() }()
	// Every validator started with --drive is a standby: the committed
	// lease names the one that drives, and another takes the next term
	// when the holder's lease lapses.
	var sb *bft.Standby
	dctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sbDone := make(chan struct{})
	if c.drive {
		key, err := bft.Key(node)
		if err != nil {
			ln.Close()
			fmt.Fprintf(e.stderr, "knhk: %v\n", err)
			return exitUser
		}
		w := worker.New(comp.prog, worker.Options{DataDir: o.data, BaseDir: filepath.Dir(file), Log: lines})
		sb = bft.NewStandby(bft.StandbyConfig{App: app, Node: local.New(node), Key: key, API: url, // the lease carries the scheme
			Program: comp.prog, Eval: &host.Evaluator{Kernels: acc.m}, Worker: w, Syncing: node.ConsensusReactor().WaitSync,
			WorkerFor: bftTenantWorker(c.bft, file, comp, lines), // the tenants' spaces (clusterbfttenants.go)
			ProgramWorker: func(p *ir.Program) engine.Worker { // a program deployed on the chain
				return worker.New(p, worker.Options{DataDir: o.data, BaseDir: filepath.Dir(file), Log: lines})
			},
			Live: bftSpaceLive(o), // a deleted tenant's space is not driven
			OnTerm: func(term uint64, d *bft.Driver) {
				if d != nil {
					logger.Info(fmt.Sprintf("validator %s drives (lease term %d)", c.bft, term), "term", term)
				} else {
					logger.Info(fmt.Sprintf("validator %s no longer drives (lease term %d)", c.bft, term), "term", term)
				}
			}})
		go func() { sb.Run(dctx); close(sbDone) }()
	} else {
		close(sbDone)
	}
	height := func() int64 { return node.BlockStore().Height() }
	if lic != nil {
		// --license: offered to the chain, whose genesis names the keys
		// it must verify against (clusterbftlicence.go).
		go offerLicence(dctx, app, node, lic, licFile, logger)
	}
	h := server.NewBFTAPI(filepath.Base(c.bft), app, sb, height, comp.prog)
	h.MaxBody = o.maxBody
	h.Kernels = acc.m // queries meter their kernel calls as the steps do
	h.Secure(sec)     // --token-file, and the client that forwards writes to the driver
	// /cluster/v1/usage: the month's usage of the cluster's own cases,
	// counted from the chain (clusterbftusage.go).
	var handler http.Handler = withUsage(h, bftUsage{name: filepath.Base(c.bft), app: app}, sec.Token)
	if o.tenants.on {
		// Every tenant a space of the chain (clusterbfttenants.go).
		ct, err := openBFTTenants(bftTenantsConfig{flags: &o.tenants, o: o, owner: &bftOwner{name: filepath.Base(c.bft), app: app, sb: sb},
			comp: comp, sec: sec, height: height, logger: logger})
		if err != nil {
			ln.Close()
			fmt.Fprintf(e.stderr, "knhk: %v\n", err)
			return exitUser
		}
		defer ct.close(context.Background())
		handler = ct.front(handler) // withUsage carries the default tenant's one-time keys too
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
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
	logger.Info(fmt.Sprintf("validator %s listening on %s", c.bft, url), "home", c.bft, "url", url, "drive", c.drive)
	select {
	case err = <-serveErr:
	case <-ctx.Done():
	}
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	srv.Shutdown(sctx)
	cancel()
	<-sbDone
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Error(err.Error())
		return exitUser
	}
	return exitOK
}

// clusterBFTInit writes the homes of a local network of validators.
func clusterBFTInit(e *env, o *clusterOptions) int {
	if o.dir == "" {
		return usageError(e, "bft-init needs --dir")
	}
	if o.validators < 1 {
		return usageError(e, "--validators must be at least 1, got %d", o.validators)
	}
	if o.basePort < 1 || o.basePort+o.validators > 65535 {
		return usageError(e, "--base-port %d leaves no room for %d validators", o.basePort, o.validators)
	}
	var g bft.Genesis
	// The keys the genesis trusts: licence issuers and deploy signers.
	for _, k := range []struct {
		flag, path string
		to         *[]string
	}{{"--license-trust", o.licenceTrust, &g.LicenceTrust}, {"--trust", o.deployTrust, &g.DeployTrust}} {
		if k.path == "" {
			continue
		}
		pems, err := readPEMKeys(k.path)
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: %s: %v\n", k.flag, err)
			return exitUser
		}
		*k.to = pems
	}
	if err := bft.InitGenesis(o.dir, o.validators, o.host, o.basePort, "knhk", g); err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	for i := range o.validators {
		fmt.Fprintf(e.stdout, "%s (p2p %s:%d)\n", filepath.Join(o.dir, fmt.Sprintf("v%d", i)), o.host, o.basePort+i)
	}
	return exitOK
}
