// This file implements the driver's event log: an engine beside one
// node proposes each event as a transaction and waits for its block.

package bft

import (
	"context"
	"errors"
	"fmt"

	"github.com/cometbft/cometbft/types"

	coretypes "github.com/cometbft/cometbft/rpc/core/types"

	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/engine"
)

// Broadcaster submits a transaction and waits until a block holds it
// (CometBFT's local or HTTP RPC client).
type Broadcaster interface {
	BroadcastTxCommit(ctx context.Context, tx types.Tx) (*coretypes.ResultBroadcastTxCommit, error)
}

// Log is an engine.EventLog whose appends are committed transactions.
type Log struct {
	App  *App // the node's application, for positions and recovery
	Node Broadcaster
}

var _ engine.Snapshotter = (*Log)(nil)

// Append proposes ev at the case's next position and returns once a
// committed block applied it.
func (l *Log) Append(ctx context.Context, caseID string, ev *engine.Event) error {
	b, err := engine.EncodeEvent(ev)
	if err != nil {
		return err
	}
	c := &cluster.Command{Op: cluster.OpEvent, Program: l.App.prog, Case: caseID, Pos: l.App.fsm.Events(caseID), Event: b}
	tx, err := c.Encode()
	if err != nil {
		return err
	}
	res, err := l.Node.BroadcastTxCommit(ctx, tx)
	if err != nil {
		return err
	}
	if res.CheckTx.Code != 0 {
		return fmt.Errorf("transaction refused: %s", res.CheckTx.Log)
	}
	if res.TxResult.Code != 0 {
		return fmt.Errorf("transaction in block %d not applied: %s", res.Height, res.TxResult.Log)
	}
	return nil
}

// Replay is not offered: recovery starts from the application's state.
func (l *Log) Replay(context.Context, string, func(*engine.Event) error) error {
	return errors.New("the bft log replays a case from its replicated state")
}

// SaveSnapshot does nothing: the chain keeps the states.
func (l *Log) SaveSnapshot(context.Context, string, []byte) error { return nil }

// ReplaySnapshot restores case caseID from the application's state.
func (l *Log) ReplaySnapshot(_ context.Context, caseID string, restore func([]byte) error, _ func(*engine.Event) error) error {
	b, ok, err := l.App.fsm.Encoded(caseID)
	if err != nil || !ok {
		return err
	}
	return restore(b)
}
