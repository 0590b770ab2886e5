// This file implements the ABCI application: the cluster FSM, the
// driver's lease and the validator set behind InitChain, CheckTx,
// FinalizeBlock and Commit.

package bft

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/hashicorp/raft"

	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/engine"
)

// App is the engine as an ABCI application.
type App struct {
	abci.BaseApplication
	prog string
	m    *engine.Machine
	fsm  *cluster.FSM
	// spaces are the tenants' FSMs, by tenant id, and empty the FSM a
	// tenant's space reads as before a block wrote it (space.go); smu
	// guards the map, each FSM guards itself.
	smu    sync.RWMutex
	spaces map[string]*cluster.FSM
	empty  *cluster.FSM
	// lics and meters are the tenants' licences on the chain and the
	// meters their starts are decided with (licence.go); a.mu guards
	// them.
	lics   map[string]spaceLicence
	meters map[string]spaceMeter
	// licTrust are the genesis's licence issuer keys (PEM), licence the
	// deployment licence the chain committed (chainlicence.go).
	licTrust []string
	licence  []byte
	chainLic chainLicence
	// deployTrust are the genesis's deploy keys (PEM), compile how a
	// deploy's source is compiled, nil on an App that takes no deploys
	// (deploy.go).
	deployTrust []string
	compile     cluster.Compiler
	// sealRoot and readSeals make sealed tenants possible, seals are
	// the chain's sealed and erased tenants, leaves the keys (and their
	// AEADs) derived so far, punctures the leaves to destroy at Commit (sealed.go).
	sealRoot  *SealRoot
	readSeals TenancyReader
	seals     sealState
	leaves    map[string]leafSeal
	punctures []uint32
	onErased  func(tenant string)

	mu      sync.Mutex
	chainID string
	height  int64
	appHash []byte
	// hashes are the application hashes of the last blocks, by height,
	// for comparing validators that are at different heights.
	hashes map[int64][]byte
	// leaseLen is the lease's length (genesis), lease the committed
	// lease.
	leaseLen time.Duration
	lease    Lease
	// vals is the validator set as the application changed it;
	// removed, the validators it removed for misbehavior.
	vals    map[string]*member
	removed []Removal
	// persist says where the state is saved; saved is the height of the
	// last save (see persist.go).
	persist Persistence
	saved   int64
	// snaps are the last saved states, oldest first, offered to state
	// sync; restoring is the snapshot being restored (see
	// statesync.go).
	snaps     []snapshot
	restoring *restoring
	// legacy is set while the state is one a version before the
	// incremental state hash saved, and recorded says which hash the
	// chain holds for a block (legacyreplay.go).
	legacy   bool
	recorded func(height int64) []byte
	// tamper, when set (tests), replaces the hash the app answers: a
	// replica that lies about its state.
	tamper func([]byte) []byte
	// observe, when set (tests), is told each transaction a block
	// carried and its outcome.
	observe func(height int64, t *Tx, err error)
	// riders are the commands this validator's drivers submitted with
	// a call's audit record in them (audit.go).
	riders riders
	// misbehavior is what committed blocks reported: validators that
	// signed conflicting votes (equivocation) or attacked light clients.
	misbehavior []abci.Misbehavior
}

// keepHashes is how many blocks' hashes an App remembers.
const keepHashes = 4096

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
	// legacy: until a block shows otherwise, the chain may be one the
	// old version hashed from its first block on (legacyreplay.go).
	return &App{prog: prog, m: m, fsm: cluster.NewFSM(m, prog), spaces: map[string]*cluster.FSM{}, empty: cluster.NewFSM(m, prog), lics: map[string]spaceLicence{}, meters: map[string]spaceMeter{}, hashes: map[int64][]byte{}, leaseLen: DefaultLease, vals: map[string]*member{}, legacy: true}
}

// FSM returns the application's state: the cluster's own space (the
// default tenant's; a tenant's is [App.Space]).
func (a *App) FSM() *cluster.FSM { return a.fsm }

// Program returns the hash of the application's program.
func (a *App) Program() string { return a.prog }

// ChainID returns the chain's id (known from the genesis on).
func (a *App) ChainID() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.chainID
}

// Height returns the last block the application applied.
func (a *App) Height() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.height
}

// AppHashAt returns the application hash this validator computed for
// block height, false when it did not apply that block or forgot it.
func (a *App) AppHashAt(height int64) ([]byte, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	h, ok := a.hashes[height]
	return h, ok
}

// Info tells CometBFT how far the application is.
func (a *App) Info(context.Context, *abci.RequestInfo) (*abci.ResponseInfo, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return &abci.ResponseInfo{Data: "knhk", LastBlockHeight: a.height, LastBlockAppHash: a.appHash}, nil
}

// InitChain takes the genesis: the chain id, the validators and the
// lease's length.
func (a *App) InitChain(_ context.Context, req *abci.RequestInitChain) (*abci.ResponseInitChain, error) {
	n, err := parseGenesis(req.AppStateBytes)
	if err != nil {
		return nil, err
	}
	g, _ := decodeGenesis(req.AppStateBytes)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.chainID, a.leaseLen, a.licTrust, a.deployTrust = req.ChainId, n, g.LicenceTrust, g.DeployTrust
	if err := a.setValidators(req.Validators); err != nil {
		return nil, err
	}
	return &abci.ResponseInitChain{}, nil
}

// CheckTx admits a transaction to the mempool when it is well formed,
// signed by a validator of the set and, for an event, a command of this
// program. Whether its driver holds the lease is for the block to say.
func (a *App) CheckTx(_ context.Context, req *abci.RequestCheckTx) (*abci.ResponseCheckTx, error) {
	t, err := DecodeTx(req.Tx)
	if err != nil {
		return &abci.ResponseCheckTx{Code: codeBad, Log: err.Error()}, nil
	}
	a.mu.Lock()
	err = a.verify(t)
	if err == nil && t.Kind == KindEvent {
		// Under a.mu, as in the block: a deploy's check reads the
		// genesis's keys (deploy.go), a sealed tenant's command opens
		// under its key (sealed.go).
		if err = a.openTx(t); err == nil {
			_, err = a.command(t)
		}
	}
	a.mu.Unlock()
	if err == nil && t.Kind == KindLicence {
		a.mu.Lock()
		_, err = a.checkLicence(t.Licence)
		a.mu.Unlock()
	}
	if err != nil {
		return &abci.ResponseCheckTx{Code: code(err), Log: err.Error()}, nil
	}
	return &abci.ResponseCheckTx{Code: codeOK}, nil
}

// The result codes of a transaction.
const (
	codeOK        uint32 = 0
	codeBad       uint32 = 1  // does not decode, or its signature does not verify
	codeProgram   uint32 = 2  // a command of another program
	codeSigner    uint32 = 4  // not signed by a validator of the set
	codeLease     uint32 = 5  // a lease claim refused
	codeDeposed   uint32 = 6  // an event of a driver that does not hold the lease
	codeRefused   uint32 = 7  // an event the case refused (position, transition)
	codeDuplicate uint32 = 8  // an event whose request id was applied before
	codeTenant    uint32 = 9  // a transaction of a tenant the tenancy does not hold
	codeLicence   uint32 = 10 // a start a licence on the chain refuses, or a licence the chain refuses
	codeSignature uint32 = 11 // a deploy not signed by a key the genesis trusts
)

// ErrNotValidator is the outcome of a transaction whose signer is not a
// validator with voting power.
var ErrNotValidator = errors.New("not a validator of the set")

func code(err error) uint32 {
	switch {
	case errors.Is(err, cluster.ErrProgram):
		return codeProgram
	case errors.Is(err, ErrNotValidator):
		return codeSigner
	case errors.Is(err, ErrLeaseHeld):
		return codeLease
	case errors.Is(err, ErrDeposed):
		return codeDeposed
	case errors.Is(err, ErrDuplicate):
		return codeDuplicate
	case errors.Is(err, ErrNoTenant), errors.Is(err, ErrErasedTenant):
		return codeTenant
	case errors.Is(err, ErrLicence):
		return codeLicence
	case errors.Is(err, ErrUnsignedDeploy):
		return codeSignature
	case errors.Is(err, ErrBadTx), errors.Is(err, cluster.ErrBadCommand):
		return codeBad
	}
	return codeRefused
}

// verify checks that a validator with power signed t; a.mu is held.
func (a *App) verify(t *Tx) error {
	v := a.vals[t.Driver]
	if v == nil || v.power == 0 {
		return fmt.Errorf("%w: %s", ErrNotValidator, short(t.Driver))
	}
	return t.Verify(v.pub, a.chainID)
}

// command decodes an event transaction's command and checks what the
// FSM would otherwise stop on: a command of another program, another
// op, an event that does not decode; and what a tenant's transaction
// may not do (space.go). A driver's transaction must not be able to
// stop the honest validators' FSMs, nor reach across tenants. a.mu is
// held.
func (a *App) command(t *Tx) (*cluster.Command, error) {
	c, err := cluster.DecodeCommand(t.Cmd)
	if err != nil {
		return nil, err
	}
	if c.Program != a.prog && (c.Op != cluster.OpEvent || a.Space(t.Tenant).MachineOf(c.Program) == nil) {
		// A case of a program deployed on the chain (deploy.go) names
		// it; everything else names the validators' own.
		return nil, fmt.Errorf("%w: command of program %s", cluster.ErrProgram, c.Program)
	}
	if err := a.checkSpace(t, c); err != nil {
		return nil, err
	}
	if c.Op == cluster.OpDeploy {
		return c, a.checkDeploy(c.Deploy) // deploy.go
	}
	if c.Op != cluster.OpEvent {
		return c, nil
	}
	if _, err := engine.DecodeEvent(c.Event); err != nil {
		return nil, fmt.Errorf("%w: case %s event %d: %v", cluster.ErrBadCommand, c.Case, c.Pos, err)
	}
	return c, nil
}

// FinalizeBlock first removes the validators the block proves to have
// misbehaved, then applies the block's transactions in order; each
// result says whether its transaction applied, and why not.
func (a *App) FinalizeBlock(_ context.Context, req *abci.RequestFinalizeBlock) (*abci.ResponseFinalizeBlock, error) {
	res := &abci.ResponseFinalizeBlock{TxResults: make([]*abci.ExecTxResult, len(req.Txs))}
	a.mu.Lock()
	defer a.mu.Unlock()
	res.ValidatorUpdates = a.punish(req.Misbehavior, req.Height)
	now := req.Time.UnixNano()
	for i, tx := range req.Txs {
		// Raft indexes stand in for the transaction's place in the
		// chain: the same on every replica.
		idx := uint64(req.Height)<<16 | uint64(i+1)
		err := a.deliver(tx, idx, now, req.Height)
		if a.observe != nil {
			t, _ := DecodeTx(tx)
			a.observe(req.Height, t, err)
		}
		if err != nil {
			// A sealed tenant's refusal may name what its command
			// carried: sealed too (sealed.go); CometBFT keeps the
			// logs, but hashes only the codes.
			res.TxResults[i] = &abci.ExecTxResult{Code: code(err), Log: a.sealLog(tx, err.Error())}
		} else {
			res.TxResults[i] = &abci.ExecTxResult{Code: codeOK}
		}
	}
	h, err := a.blockHash(req.Height)
	if err != nil {
		return nil, err
	}
	if a.tamper != nil {
		h = a.tamper(h)
	}
	a.height, a.appHash = req.Height, h
	a.hashes[req.Height] = h
	delete(a.hashes, req.Height-keepHashes)
	a.misbehavior = append(a.misbehavior, req.Misbehavior...)
	res.AppHash = h
	return res, nil
}

// deliver applies one transaction; a.mu is held.
func (a *App) deliver(tx []byte, idx uint64, now, height int64) error {
	t, err := DecodeTx(tx)
	if err != nil {
		return err
	}
	if err := a.verify(t); err != nil {
		return err
	}
	switch t.Kind {
	case KindLease:
		return a.grant(t, now, height)
	case KindLicence:
		return a.takeLicence(t.Licence)
	}
	if err := a.admit(t); err != nil {
		return err
	}
	if err := a.openTx(t); err != nil { // sealed.go
		return err
	}
	c, err := a.command(t)
	if err != nil {
		return err
	}
	if err := a.admitStart(t.Tenant, a.Space(t.Tenant), c, now); err != nil {
		return err
	}
	a.riders.applying(tx) // a call's record in it is chained now (audit.go)
	data := t.Cmd
	if t.Tenant != "" && c.Audit != nil {
		// The record goes into the cluster's own space's chain, not
		// the tenant's space (audit.go).
		bare := *c
		bare.Audit = nil
		if data, err = bare.Encode(); err != nil {
			return err
		}
	}
	r, _ := a.spaceFor(t).Apply(&raft.Log{Index: idx, Type: raft.LogCommand, Data: data}).(*cluster.Result)
	if r != nil && t.Tenant != "" && c.Audit != nil {
		a.fsm.ChainRidden(c, r)
	}
	switch {
	case r == nil:
		return errors.New("no outcome")
	case r.Dup:
		// Not applied: the driver's engine must not apply it either,
		// and answers the first outcome from the FSM.
		return fmt.Errorf("%w (in transaction %d)", ErrDuplicate, r.Index)
	case r.Err != nil:
		return r.Err
	}
	if t.Tenant == "" && c.Op == cluster.OpTenant {
		a.syncSeals(height) // a tenant sealed or erased (sealed.go)
	}
	return nil
}

// hash is the application hash: the SHA-256 of the FSM's state hash
// (incremental: O(cases the block changed), see cluster's statehash.go)
// and of the application's own state (chain, lease, validator set,
// removals, the tenants' spaces' state hashes); a.mu is held.
func (a *App) hash() ([]byte, error) {
	fh, err := a.fsm.StateHash()
	if err != nil {
		return nil, err
	}
	return a.hashWith(fh)
}

// hashWith combines the FSM's hash fh with the application's own state.
func (a *App) hashWith(fh []byte) ([]byte, error) {
	type val struct {
		Address string `json:"a"`
		Key     []byte `json:"k"`
		Power   int64  `json:"p"`
	}
	var vals []val
	for addr, v := range a.vals {
		vals = append(vals, val{addr, v.pub.Bytes(), v.power})
	}
	sort.Slice(vals, func(i, j int) bool { return vals[i].Address < vals[j].Address })
	spaces, err := a.spaceHashes()
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(struct {
		Chain   string      `json:"c"`
		Lease   Lease       `json:"l"`
		Len     int64       `json:"n"`
		Vals    []val       `json:"v"`
		Removed []Removal   `json:"r"`
		Spaces  []spaceHash `json:"s,omitempty"` // absent without tenants: the hash of before
		// The licence's issuer keys and the licence (chainlicence.go),
		// absent without them: the hash of before.
		Trust   []string `json:"lt,omitempty"`
		Licence []byte   `json:"li,omitempty"`
		// The deploy keys (deploy.go), absent without them.
		DeployTrust []string `json:"dt,omitempty"`
		// The sealed and erased tenants (sealed.go), absent without.
		Seals *sealState `json:"se,omitempty"`
	}{a.chainID, a.lease, int64(a.leaseLen), vals, a.removed, spaces, a.licTrust, a.licence, a.deployTrust, a.sealHash()})
	if err != nil {
		return nil, err
	}
	s := sha256.New()
	s.Write(fh)
	s.Write(b)
	return s.Sum(nil), nil
}

// Query answers "/lease" (the committed lease) and "/validators" (the
// validator set with its removals) as JSON.
func (a *App) Query(_ context.Context, req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	var v any
	switch req.Path {
	case "/lease":
		v = a.Lease()
	case "/validators":
		v = a.Validators()
	default:
		return &abci.ResponseQuery{Code: codeBad, Log: fmt.Sprintf("unknown query path %q: want /lease or /validators", req.Path)}, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return &abci.ResponseQuery{Code: codeOK, Value: b, Height: a.Height()}, nil
}

// Commit saves the state every so many blocks when the App persists
// (see [App.Persist]) and then lets CometBFT prune the blocks more than
// KeepBlocks below the saved state; otherwise it keeps every block.
func (a *App) Commit(context.Context, *abci.RequestCommit) (*abci.ResponseCommit, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	res := &abci.ResponseCommit{}
	if a.persist.Path != "" && a.height-a.saved >= a.persist.Every {
		if err := a.save(); err != nil {
			return nil, fmt.Errorf("saving the application state of block %d: %w", a.height, err)
		}
	}
	// An erased tenant's key, once a save without its space is made
	// (sealed.go).
	if err := a.shred(); err != nil {
		return nil, fmt.Errorf("block %d: %w", a.height, err)
	}
	if a.persist.Path == "" {
		return res, nil
	}
	if k := a.persist.KeepBlocks; k > 0 && a.saved-k > 1 {
		// Keep the blocks after every snapshot offered: a node that
		// restores one goes on from the next block.
		res.RetainHeight = a.saved - k
		if len(a.snaps) > 0 {
			res.RetainHeight = min(res.RetainHeight, a.snaps[0].height+1)
		}
	}
	return res, nil
}
