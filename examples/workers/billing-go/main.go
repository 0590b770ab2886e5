// Command billing-go is an external task worker in Go for
// examples/workers/billing.knhk: it polls queue "billing" of knhk serve
// and charges each order, until SIGINT or SIGTERM, when it stops polling
// and lets the tasks in flight finish.
//
//	go run ./examples/workers/billing-go --server http://127.0.0.1:7233
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/knhk/knhk/client"
	"github.com/knhk/knhk/client/worker"
)

// Receipt is the task's result type, Receipt in billing.knhk.
type Receipt struct {
	ID    string `json:"id"`
	Cents int    `json:"cents"`
}

// charge is the work. A real one applies the charge once per key, the
// attempt's idempotency key.
func charge(ctx context.Context, t *worker.Task) (any, error) {
	var in struct {
		Order string `json:"order"`
		Cents int    `json:"cents"`
	}
	if err := json.Unmarshal(t.Input, &in); err != nil {
		return nil, err
	}
	return Receipt{ID: "rcpt-" + in.Order, Cents: in.Cents}, nil
}

func main() {
	server := flag.String("server", envOr("KNHK_SERVER", "http://127.0.0.1:7233"), "the knhk serve `URL`")
	tokenFile := flag.String("token-file", "", "read the bearer token from `FILE`")
	queue := flag.String("queue", "billing", "the `QUEUE` to poll")
	n := flag.Int("concurrency", 4, "run at most `N` tasks at once")
	drain := flag.Duration("drain", 30*time.Second, "on a signal, wait at most `D` for the tasks in flight")
	flag.Parse()

	var opts []client.Option
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "billing-go:", err)
			os.Exit(1)
		}
		opts = append(opts, client.WithToken(strings.TrimSpace(string(b))))
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	w, err := worker.New(worker.Remote(client.New(*server, opts...).API()),
		worker.Options{Queue: *queue, Concurrency: *n, DrainTimeout: *drain, Log: log}, charge)
	if err != nil {
		fmt.Fprintln(os.Stderr, "billing-go:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log.Info("polling", "server", *server, "queue", *queue)
	if err := w.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "billing-go:", err)
		os.Exit(1)
	}
	log.Info("stopped")
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
