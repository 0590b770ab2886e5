// This file implements "knhk serve": one long-running process that owns
// a data directory, runs every case in it and answers the API of
// api/knhk/v1 (package server).

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/knhk/knhk/server"
	"github.com/knhk/knhk/server/console"
)

var serveCmd = &command{
	name:      "serve",
	usageLine: "knhk serve [--data DIR] [--listen ADDR] [--tls-cert F --tls-key F] [--token-file F] [--max-body N]",
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

Only one serve may own a data directory. On SIGTERM or SIGINT serve
drains: it stops accepting calls, lets calls and appends in flight
finish, writes its recovery index (so the next start does not read the
whole log) and exits with status 0. The address it listens on is
printed on standard error once it accepts calls.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		var o serveOptions
		fs.StringVar(&o.data, "data", ".knhk", "the data `DIR`")
		fs.StringVar(&o.listen, "listen", "127.0.0.1:7233", "listen on `ADDR`")
		fs.StringVar(&o.cert, "tls-cert", "", "TLS certificate `FILE`")
		fs.StringVar(&o.key, "tls-key", "", "TLS key `FILE`")
		fs.StringVar(&o.tokenFile, "token-file", "", "require the bearer token in `FILE`")
		fs.Int64Var(&o.maxBody, "max-body", server.DefaultMaxBody, "refuse request bodies over `N` bytes")
		return func(e *env, args []string) int { return runServe(e, &o, args) }
	},
}

type serveOptions struct {
	data, listen, cert, key, tokenFile string
	maxBody                            int64
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
	var token string
	if o.tokenFile != "" {
		b, err := os.ReadFile(o.tokenFile)
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: %v\n", unwrapPathError(err))
			return exitUser
		}
		if token = strings.TrimSpace(string(b)); token == "" {
			fmt.Fprintf(e.stderr, "knhk: the token file %s is empty\n", o.tokenFile)
			return exitUser
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	svc, err := server.Open(o.data, server.Options{Log: e.stderr})
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		svc.Close(context.Background())
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	if token == "" && !isLoopback(ln.Addr()) {
		fmt.Fprintf(e.stderr, "knhk serve: warning: listening on %s without --token-file; anyone who reaches it can start and cancel cases\n", ln.Addr())
	}
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetHTTP2(true)
	protocols.SetUnencryptedHTTP2(true) // gRPC over plain HTTP/2
	mux := server.NewMux(svc, server.MuxOptions{Token: token, MaxBody: o.maxBody})
	console.Mount(mux, svc) // the web console at /
	srv := &http.Server{
		Handler:           mux,
		Protocols:         protocols,
		ReadHeaderTimeout: 10 * time.Second, // a slow client cannot hold a connection forever
	}
	st := svc.Stats()
	fmt.Fprintf(e.stderr, "knhk serve: %d cases in %s, %d running (read %d log records)\n", st.Cases, o.data, st.Recovered, st.Scanned)
	scheme := "http"
	if o.cert != "" {
		scheme = "https"
	}
	fmt.Fprintf(e.stderr, "knhk serve: listening on %s://%s\n", scheme, ln.Addr())
	serveErr := make(chan error, 1)
	go func() {
		if o.cert != "" {
			serveErr <- srv.ServeTLS(ln, o.cert, o.key)
		} else {
			serveErr <- srv.Serve(ln)
		}
	}()
	select {
	case err = <-serveErr:
	case <-ctx.Done():
	}
	fmt.Fprintf(e.stderr, "knhk serve: draining\n")
	dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(dctx) }()
	cerr := svc.Close(dctx)
	if serr := <-shut; cerr == nil && !errors.Is(serr, http.ErrServerClosed) {
		cerr = serr
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	if cerr != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", cerr)
		return exitUser
	}
	fmt.Fprintf(e.stderr, "knhk serve: stopped\n")
	return exitOK
}

func isLoopback(a net.Addr) bool {
	t, ok := a.(*net.TCPAddr)
	return ok && t.IP.IsLoopback()
}
