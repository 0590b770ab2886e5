// This file implements the bound on a process's writes waiting for
// their blocks. CometBFT's broadcast_tx_commit subscribes to the
// transaction's block for as long as it waits, and counts every
// subscription of the node's local client as one client's (it has no
// remote address): beyond RPCConfig.MaxSubscriptionsPerClient at once,
// the next write fails ("max_subscriptions_per_client 5 reached" with
// CometBFT's default), so a driver running six cases at once lost
// writes. A validator allows MaxWritesInFlight subscriptions (Open),
// and commit waits for a free one instead of failing.

package bft

import (
	"context"

	cfg "github.com/cometbft/cometbft/config"
)

// MaxWritesInFlight is how many writes of one process wait for their
// blocks at once; a validator's node allows as many subscriptions of
// its local client.
const MaxWritesInFlight = 1024

// inFlight holds a token per write waiting for its block.
var inFlight = make(chan struct{}, MaxWritesInFlight)

// acquire takes a token, or returns ctx's error.
func acquire(ctx context.Context) error {
	select {
	case inFlight <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// release returns a token.
func release() { <-inFlight }

// allowWrites lets c's node hold a subscription of its local client per
// write in flight.
func allowWrites(c *cfg.Config) { c.RPC.MaxSubscriptionsPerClient = MaxWritesInFlight }
