// This file implements the ABCI application: the cluster FSM behind
// CheckTx, FinalizeBlock and Commit.

package bft

import (
	"context"
	"fmt"
	"sync"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/hashicorp/raft"

	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/engine"
)

// App is the engine as an ABCI application.
type App struct {
	abci.BaseApplication

	prog string
	fsm  *cluster.FSM

	mu      sync.Mutex
	height  int64
	appHash []byte
	// tamper, when set (tests), replaces the hash the app answers: a
	// replica that lies about its state.
	tamper func([]byte) []byte
	// misbehavior is what committed blocks reported: validators that
	// signed conflicting votes (equivocation) or attacked light clients.
	misbehavior []abci.Misbehavior
}

// Misbehavior returns the misbehavior the committed blocks reported, in
// order: CometBFT turns conflicting votes of one validator into
// evidence, and a block that includes it reports it here.
func (a *App) Misbehavior() []abci.Misbehavior {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]abci.Misbehavior(nil), a.misbehavior...)
}

var _ abci.Application = (*App)(nil)

// NewApp returns an application for the program of m, whose hash is
// prog.
func NewApp(m *engine.Machine, prog string) *App {
	return &App{prog: prog, fsm: cluster.NewFSM(m, prog)}
}

// FSM returns the application's state.
func (a *App) FSM() *cluster.FSM { return a.fsm }

// Info tells CometBFT how far the application is.
func (a *App) Info(context.Context, *abci.RequestInfo) (*abci.ResponseInfo, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return &abci.ResponseInfo{Data: "knhk", LastBlockHeight: a.height, LastBlockAppHash: a.appHash}, nil
}

// CheckTx admits a transaction to the mempool when it is a well-formed
// command of this program.
func (a *App) CheckTx(_ context.Context, req *abci.RequestCheckTx) (*abci.ResponseCheckTx, error) {
	c, err := cluster.DecodeCommand(req.Tx)
	if err != nil {
		return &abci.ResponseCheckTx{Code: 1, Log: err.Error()}, nil
	}
	if c.Program != a.prog {
		return &abci.ResponseCheckTx{Code: 2, Log: fmt.Sprintf("%v: command of program %s", cluster.ErrProgram, c.Program)}, nil
	}
	return &abci.ResponseCheckTx{Code: 0}, nil
}

// FinalizeBlock applies the block's commands in order; each result says
// whether its command applied, and why not.
func (a *App) FinalizeBlock(_ context.Context, req *abci.RequestFinalizeBlock) (*abci.ResponseFinalizeBlock, error) {
	res := &abci.ResponseFinalizeBlock{TxResults: make([]*abci.ExecTxResult, len(req.Txs))}
	for i, tx := range req.Txs {
		// Raft indexes stand in for the transaction's place in the
		// chain: the same on every replica.
		idx := uint64(req.Height)<<16 | uint64(i+1)
		r, _ := a.fsm.Apply(&raft.Log{Index: idx, Type: raft.LogCommand, Data: tx}).(*cluster.Result)
		switch {
		case r == nil:
			res.TxResults[i] = &abci.ExecTxResult{Code: 3, Log: "no outcome"}
		case r.Err != nil:
			res.TxResults[i] = &abci.ExecTxResult{Code: 1, Log: r.Err.Error()}
		default:
			res.TxResults[i] = &abci.ExecTxResult{Code: 0}
		}
	}
	h, err := a.fsm.StateHash()
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tamper != nil {
		h = a.tamper(h)
	}
	a.height, a.appHash = req.Height, h
	a.misbehavior = append(a.misbehavior, req.Misbehavior...)
	res.AppHash = h
	return res, nil
}

// Commit keeps every block (the engine's states are small; pruning is
// not done yet).
func (a *App) Commit(context.Context, *abci.RequestCommit) (*abci.ResponseCommit, error) {
	return &abci.ResponseCommit{}, nil
}
