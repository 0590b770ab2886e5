// This file implements "knhk serve": one long-running process that owns
// a data directory, runs every case in it and answers the API of
// api/knhk/v1 (package server).

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/knhk/knhk/runtime/queue"
	"github.com/knhk/knhk/server"
	"github.com/knhk/knhk/server/console"
	"github.com/knhk/knhk/server/metrics"
)

var serveCmd = &command{
	name:      "serve",
	usageLine: "knhk serve [--data DIR] [--listen ADDR] [--tls-cert F --tls-key F] [--token-file F] [--tenants [--auth-keys F --auth-issuer I [--auth-audience A]] [--tls-client-ca F]] [--max-body N] [--lease D] [--log-format text|json] [--log-level L] [--node ID --raft ADDR [--join URL] [--labels K=V] FILE]",
	short:     "run every case of a data directory and serve the API",
	long: `Serve opens the data directory (--data, default ./.knhk), picks up every
case that has not ended, timers included, and runs all cases at once on
the durable engine, sharing one event log and its group commit. It
answers the API of api/knhk/v1 on --listen (default 127.0.0.1:7233,
localhost only): Connect JSON over plain HTTP (curl-able), Connect
binary, gRPC and gRPC-Web. knhk run, signal, resume, query, cases,
history and export talk to it with --server URL or KNHK_SERVER. A web
console at / lists the cases, draws each case's workflow with where it
stands, and shows its history, queries, input and result, and the
deployed programs with their source.

With --tls-cert and --tls-key it serves HTTPS. With --token-file every
call must carry "Authorization: Bearer TOKEN", TOKEN being the file's
content without surrounding white space; it is compared in constant
time. A request body larger than --max-body bytes (default 16 MiB) is
refused.

An external worker holds a queue task for --lease (default 30s) after
each poll or heartbeat; a lease that runs out without a heartbeat counts
as a failed attempt, retried per the task's clauses (docs/workers.md).
A short lease notices a dead worker sooner; a long one tolerates slow
heartbeats.

Only one serve may own a data directory. On SIGTERM or SIGINT serve
drains: it stops accepting calls, lets calls and appends in flight
finish, writes its recovery index (so the next start does not read the
whole log) and exits with status 0. The address it listens on is
logged once it accepts calls.

GET /metrics serves Prometheus metrics (behind the token, like the API):
cases by workflow and status, events and transitions, task latency by
task and queue, queue depths and lease expiries, fsync latency and
group-commit batch sizes (docs/metrics.md). GET /healthz answers 200
while the process runs; GET /readyz answers 200 only once the data
directory is open and recovered and until a drain starts, 503 before
and after (the listener is up during recovery; API calls then get 503).
Both answer 503 once a failed write or fsync made the event log refuse
appends, which only a restart mends.

A case that waits only for signals and timers (no task running or
backing off) is parked: the server keeps its summary and where its
latest snapshot is in the log, not its state, and one scheduler keeps
its next timer; a signal, cancel, query or the timer brings it back.
A restart reads parked cases from the index without rebuilding them.
--park=false keeps every case in the engine (for comparisons).

With --sign-key KEY the server keeps a receipt log of every transition
of every case (knhk receipts; checkpoints signed with KEY every
--checkpoint-every receipts or --checkpoint-interval) and signs each
descriptor it deploys into DIR/descriptors/HASH.ir.sig. With --trust DIR
it deploys a program only when one of DIR's *.sig files holds a signature
of its descriptor (knhk sign) by a key of DIR's *.pub files that
--policy accepts; other deploys fail, saying whether the descriptor was
unsigned, tampered or signed by an untrusted key.

Logs go to standard error as slog records: --log-format text (key=value,
the default) or json (one object a line), at --log-level debug, info,
warn or error (default info); debug adds one record per HTTP request.

With --tenants, serve serves the tenants of knhk tenant, each in its own
directory under DIR/tenants (docs/tenancy.md): every call needs a bearer
JWT (knhk tenant create, knhk tenant token, or one of --auth-issuer
signed by a key of --auth-keys) and reaches only the tenant it names,
with the least role each method needs (viewer, operator, deployer,
admin); the --token-file token is the admin of the data directory's own
"default" tenant.

With --node ID, serve runs one node of a replicated cluster for the
program FILE (docs/cluster.md): raft on --raft ADDR, its log in
DIR/cluster/ID, the cluster's HTTP API on --listen; --join URL joins
the cluster of the node at URL, and without it a new cluster starts.
knhk cluster manages it. With --tenants (and --token-file) every node
serves every tenant of DIR/tenants, each a raft group of its own
(docs/tenancy.md, "On a raft cluster").
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		var o serveOptions
		fs.StringVar(&o.data, "data", ".knhk", "the data `DIR`")
		fs.StringVar(&o.listen, "listen", "127.0.0.1:7233", "listen on `ADDR`")
		fs.StringVar(&o.cert, "tls-cert", "", "TLS certificate `FILE`")
		fs.StringVar(&o.key, "tls-key", "", "TLS key `FILE`")
		fs.StringVar(&o.tokenFile, "token-file", "", "require the bearer token in `FILE`")
		fs.Int64Var(&o.maxBody, "max-body", server.DefaultMaxBody, "refuse request bodies over `N` bytes")
		fs.DurationVar(&o.lease, "lease", queue.DefaultLease, "hold a worker's task for `DURATION` without a heartbeat")
		fs.StringVar(&o.logFormat, "log-format", "text", "log records as `text` or json")
		fs.StringVar(&o.logLevel, "log-level", "info", "log records at `LEVEL` (debug, info, warn, error) and above")
		fs.BoolVar(&o.park, "park", true, "keep cases that wait only for signals and timers as data, not in the engine")
		o.sign.define(fs)
		o.license.define(fs)       // --license: licenseserve.go
		o.tenants.define(fs)       // --tenants: tenantserve.go
		c := clusterServeFlags(fs) // --node and the rest: clusterserve.go
		return func(e *env, args []string) int {
			if c.on() {
				return runClusterServe(e, &o, c, args)
			}
			return runServe(e, &o, args)
		}
	},
}

type serveOptions struct {
	data, listen, cert, key, tokenFile string
	maxBody                            int64
	lease                              time.Duration
	logFormat, logLevel                string
	park                               bool
	sign                               serveSign // signing flags (signserve.go)
	license                            licenseFlags
	tenants                            tenantFlags
}

func runServe(e *env, o *serveOptions, args []string) int {
	if len(args) != 0 {
		return usageError(e, "want no arguments, got %d", len(args))
	}
	if (o.cert == "") != (o.key == "") {
		return usageError(e, "give --tls-cert and --tls-key together")
	}
	if o.maxBody <= 0 {
		return usageError(e, "--max-body must be positive, got %d", o.maxBody)
	}
	if o.lease <= 0 {
		return usageError(e, "--lease must be positive, got %v", o.lease)
	}
	logger, err := metrics.NewLogger(e.stderr, o.logFormat, o.logLevel)
	if err != nil {
		return usageError(e, "%v", err)
	}
	server.TuneGC() // GOGC follows the live heap (server/gc.go), unless GOGC is set
	token, ok := readTokenFile(e, o.tokenFile)
	if !ok {
		return exitUser
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Listen before opening the data directory, so that probes see a
	// live process that is not ready while recovery runs.
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		logger.Error(err.Error())
		return exitUser
	}
	if token == "" && !o.tenants.on && !isLoopback(ln.Addr()) {
		logger.Warn(fmt.Sprintf("listening on %s without --token-file; anyone who reaches it can start and cancel cases", ln.Addr()))
	}
	health := new(metrics.Health)
	health.Starting("recovering " + o.data)
	front := metrics.NewFront(health)
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetHTTP2(true)
	protocols.SetUnencryptedHTTP2(true) // gRPC over plain HTTP/2
	srv := &http.Server{
		Handler:           metrics.AccessLog(logger, front),
		Protocols:         protocols,
		ReadHeaderTimeout: 10 * time.Second, // a slow client cannot hold a connection forever
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
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

	// Task output and the server's own lines become records too.
	lines := metrics.LineWriter(logger, slog.LevelInfo)
	defer lines.Close()
	m := metrics.New(metrics.Options{})
	sg, ok := openServeSigning(e, &o.sign, o.data)
	if !ok {
		srv.Close()
		return exitUser
	}
	defer sg.close(e) // after the drain below
	lic, err := openServeLicense(&o.license, o.data, logger)
	if err != nil {
		srv.Close()
		logger.Error(err.Error())
		return exitUser
	}
	defer lic.close() // the accelerator ledger, after the drain below
	svc, err := openEncrypted(o.data, lic.options(server.Options{Log: lines, Observer: sg.observer(m), Lease: o.lease, NoPark: !o.park, LogFor: sg.logFor(), AdmitSigned: sg.admit(), Mining: dataMiner{o.data}}))
	if err != nil {
		srv.Close()
		logger.Error(err.Error())
		return exitUser
	}
	lic.opened(svc, m.Registry())
	tenants, err := openTenants(&o.tenants, o.data, token, o.maxBody, lines, o.lease, o.park, logger)
	if err != nil {
		srv.Close()
		svc.Close(context.Background())
		logger.Error(err.Error())
		return exitUser
	}
	tenants.setDefaultService(svc)                      // erase.go
	aud, err := openServeAudit(tenants, o.data, sg.rec) // auditserve.go
	if err != nil {
		srv.Close()
		svc.Close(context.Background())
		tenants.close(context.Background())
		logger.Error(err.Error())
		return exitUser
	}
	m.WatchCases(svc)
	m.WatchQueues(svc)
	mux := server.NewMux(svc, tenants.muxOptions(server.MuxOptions{Token: token, MaxBody: o.maxBody}))
	console.Mount(mux, svc)       // the web console at /
	metrics.Mount(mux, m, health) // /metrics, /healthz, /readyz
	health.SetCheck(svc.Err)      // a failed fsync stops appends until a restart
	front.Set(aud.front(tenants.front(mux)))
	health.Ready()
	st := svc.Stats()
	logger.Info(fmt.Sprintf("%d cases in %s, %d running (%d rebuilt, %d parked; read %d log records)", st.Cases, o.data, st.Recovered+st.Parked, st.Recovered, st.Parked, st.Scanned),
		"cases", st.Cases, "data", o.data, "running", st.Recovered+st.Parked, "rebuilt", st.Recovered, "parked", st.Parked, "scanned", st.Scanned)
	scheme := "http"
	if o.cert != "" {
		scheme = "https"
	}
	url := fmt.Sprintf("%s://%s", scheme, ln.Addr())
	logger.Info("listening on "+url, "url", url)
	select {
	case err = <-serveErr:
	case <-ctx.Done():
	}
	health.Draining()
	logger.Info("draining")
	dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(dctx) }()
	cerr := errors.Join(svc.Close(dctx), tenants.close(dctx), aud.close(dctx))
	if serr := <-shut; cerr == nil && !errors.Is(serr, http.ErrServerClosed) {
		cerr = serr
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Error(err.Error())
		return exitUser
	}
	if cerr != nil {
		logger.Error(cerr.Error())
		return exitUser
	}
	logger.Info("stopped")
	return exitOK
}

func isLoopback(a net.Addr) bool {
	t, ok := a.(*net.TCPAddr)
	return ok && t.IP.IsLoopback()
}
