// This file implements "knhk serve --bft HOME": one CometBFT validator
// running the program's cases as an ABCI application (runtime/cluster/bft),
// and "knhk cluster bft-init", which writes the validators' homes.

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/cometbft/cometbft/rpc/client/local"

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
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		logger.Error(err.Error())
		return exitUser
	}
	lines := metrics.LineWriter(logger, slog.LevelWarn)
	defer lines.Close()
	app := bft.NewApp(m, hash)
	node, err := bft.Open(c.bft, app, lines)
	if err != nil {
		ln.Close()
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	defer func() { node.Stop(); node.Wait() }()
	var d *bft.Driver
	dctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if c.drive {
		w := worker.New(comp.prog, worker.Options{DataDir: o.data, BaseDir: filepath.Dir(file), Log: lines})
		if d, err = bft.NewDriver(dctx, comp.prog, &host.Evaluator{Kernels: kernelRunner()}, w, app, local.New(node)); err != nil {
			fmt.Fprintf(e.stderr, "knhk: %v\n", err)
			return exitInternal
		}
		d.Recover()
	}
	h := server.NewBFTAPI(filepath.Base(c.bft), app, d, func() int64 { return node.BlockStore().Height() }, comp.prog)
	h.MaxBody = o.maxBody
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	logger.Info(fmt.Sprintf("validator %s listening on %s", c.bft, url), "home", c.bft, "url", url, "drive", c.drive)
	select {
	case err = <-serveErr:
	case <-ctx.Done():
	}
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	srv.Shutdown(sctx)
	cancel()
	if d != nil {
		d.Wait()
	}
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
	if err := bft.Init(o.dir, o.validators, o.host, o.basePort, "knhk"); err != nil {
		fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		return exitUser
	}
	for i := range o.validators {
		fmt.Fprintf(e.stdout, "%s (p2p %s:%d)\n", filepath.Join(o.dir, fmt.Sprintf("v%d", i)), o.host, o.basePort+i)
	}
	return exitOK
}
