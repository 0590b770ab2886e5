// This file implements how commands that run a case are stopped: by
// SIGINT (Ctrl-C) or SIGTERM (what a service manager sends), both
// handled alike.

package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// stopContext returns a context cancelled by SIGINT or SIGTERM. Run,
// resume and signal then stop the running tasks (killing their process
// groups), keep the case in the data directory and say so, instead of
// dying by the signal and leaving the tasks' processes behind.
func stopContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
