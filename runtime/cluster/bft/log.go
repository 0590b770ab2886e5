// This file implements the driver's event log: an engine beside one
// node proposes each event as a transaction, signed for the term of its
// lease, and waits for its block.

package bft

import (
	"context"
	"errors"
	"fmt"

	"github.com/cometbft/cometbft/crypto"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/cometbft/cometbft/types"

	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/engine"
)

// Broadcaster submits transactions (CometBFT's local or HTTP RPC
// client): BroadcastTxCommit waits until a block holds one,
// BroadcastTxSync until the mempool took it.
type Broadcaster interface {
	BroadcastTxCommit(ctx context.Context, tx types.Tx) (*coretypes.ResultBroadcastTxCommit, error)
	BroadcastTxSync(ctx context.Context, tx types.Tx) (*coretypes.ResultBroadcastTx, error)
}

// Log is an engine.EventLog whose appends are committed transactions of
// the driver that holds the lease of Term.
type Log struct {
	App  *App // the node's application, for positions and recovery
	Node Broadcaster
	Key  crypto.PrivKey // the validator's consensus key, which signs
	Term uint64         // the lease's term
	// Tenant names the space the events go to ("" for the cluster's
	// own; space.go): every transaction carries it.
	Tenant string
	// Program is the hash of the program whose cases the log's engine
	// runs: "" for the validators' own, else one deployed on the chain
	// (deploy.go).
	Program string
	// appended, when set (by the Driver), is told the outcome of each
	// append.
	appended func(caseID string, ev *engine.Event, err error)
}

var _ engine.Snapshotter = (*Log)(nil)

// Append proposes ev at the case's next position and returns once a
// committed block applied it. An event of a term whose lease another
// validator took is refused by the block, never applied: the error then
// wraps ErrDeposed.
func (l *Log) Append(ctx context.Context, caseID string, ev *engine.Event) error {
	b, err := engine.EncodeEvent(ev)
	if err != nil {
		return err
	}
	prog := l.Program
	if prog == "" {
		prog = l.App.prog
	}
	c := &cluster.Command{Op: cluster.OpEvent, Program: prog, Case: caseID, Pos: l.App.Space(l.Tenant).Events(caseID), Event: b, ReqID: reqOf(ctx, ev)}
	// The request's one-time keys ride in its first command, where
	// every validator's FSM refuses a second use (cluster's nonce.go).
	cluster.ClaimNonce(ctx, c)
	// Its audit record rides in it, into the cluster's own space's
	// chain whatever space it writes (audit.go).
	if err := cluster.TakeAuditRiding(ctx, c); err != nil {
		return err
	}
	err = l.submit(ctx, c)
	l.App.audited(c, err)
	if l.appended != nil {
		l.appended(caseID, ev, err)
	}
	return err
}

// submit proposes c in the log's space, signed for its term, and
// waits for its block.
func (l *Log) submit(ctx context.Context, c *cluster.Command) error {
	cmd, err := c.Encode()
	if err != nil {
		return err
	}
	// A sealed tenant's command goes into the block sealed (sealed.go).
	cmd, sealed, err := l.App.SealCommand(l.Tenant, cmd)
	if err != nil {
		return err
	}
	t := &Tx{Kind: KindEvent, Term: l.Term, Cmd: cmd, Tenant: l.Tenant, Sealed: sealed}
	if err := t.Sign(l.Key, l.App.ChainID()); err != nil {
		return err
	}
	tx, err := t.Encode()
	if err != nil {
		return err
	}
	defer l.App.riders.add(tx, c)() // audit.go
	err = commit(ctx, l.Node, tx)
	if err != nil && sealed {
		// The block's refusal of a sealed tenant's transaction is
		// sealed as its command is (sealed.go).
		err = l.App.openLogs(l.Tenant, err)
	}
	return err
}

// commit broadcasts tx and waits for its block, or for ctx: CometBFT's
// local client does not stop on a context, so the wait does.
func commit(ctx context.Context, node Broadcaster, tx []byte) error {
	type answer struct {
		res *coretypes.ResultBroadcastTxCommit
		err error
	}
	// A token per waiting write, held until CometBFT's wait ends,
	// even when ctx ends first (inflight.go).
	if err := acquire(ctx); err != nil {
		return err
	}
	ch := make(chan answer, 1)
	go func() {
		defer release()
		res, err := node.BroadcastTxCommit(ctx, tx)
		ch <- answer{res, err}
	}()
	var a answer
	select {
	case a = <-ch:
	case <-ctx.Done():
		return ctx.Err()
	}
	switch {
	case a.err != nil:
		return a.err
	case a.res.CheckTx.Code != 0:
		return fmt.Errorf("transaction refused: %s", a.res.CheckTx.Log)
	case a.res.TxResult.Code == codeDuplicate:
		return fmt.Errorf("%w (block %d)", ErrDuplicate, a.res.Height)
	case a.res.TxResult.Code == codeDeposed:
		return fmt.Errorf("%w (block %d: %s)", ErrDeposed, a.res.Height, a.res.TxResult.Log)
	case a.res.TxResult.Code != 0:
		return fmt.Errorf("transaction in block %d not applied: %s", a.res.Height, a.res.TxResult.Log)
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
	b, ok, err := l.App.Space(l.Tenant).Encoded(caseID)
	if err != nil || !ok {
		return err
	}
	return restore(b)
}
