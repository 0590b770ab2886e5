// This file implements a tenant's usage on a CometBFT chain
// (/cluster/v1/usage, knhk usage report|verify --server on knhk serve
// --bft): counted from the tenant's space of the chain as the validator
// applied it, the same on every validator that applied the same block.

package main

import (
	"context"
	"fmt"
	"time"

	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/cluster/bft"
)

// bftUsage is tenant's space of a validator's chain as a usageLog.
type bftUsage struct {
	name   string
	app    *bft.App
	tenant string // "" for the cluster's own cases
}

func (u bftUsage) FSM() *cluster.FSM { return u.app.Space(u.tenant) }
func (u bftUsage) ID() string        { return u.name }

// WaitApplied waits until the validator has applied the block of index
// at (a space's indexes are the block's height and the transaction's
// place in it: runtime/cluster/bft's FinalizeBlock).
func (u bftUsage) WaitApplied(ctx context.Context, at uint64, _ time.Duration) error {
	height := int64(at >> 16)
	for u.app.Height() < height {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: index %d is in block %d; validator %s applied up to block %d before %v", cluster.ErrNotApplied, at, height, u.name, u.app.Height(), context.Cause(ctx))
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}
