// This file implements validator homes on disk: Init writes the keys,
// the shared genesis and the peer list of a local network of
// validators, InitNode the home of a node that joins it later, and
// Open starts one of them with an App.

package bft

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	cfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/crypto"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	nm "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	"github.com/cometbft/cometbft/types"
)

// homeFile is the part of a validator's home that knhk reads: where it
// listens and whom it dials.
type homeFile struct {
	Listen string   `json:"listen"` // host:port of its p2p
	Peers  []string `json:"peers"`  // ID@host:port of the others
	// SaveEvery is how many blocks apart the application saves its
	// state (DefaultSaveEvery when 0); KeepBlocks, when positive, lets
	// CometBFT prune the blocks more than that below the saved state.
	SaveEvery  int64 `json:"save_every,omitempty"`
	KeepBlocks int64 `json:"keep_blocks,omitempty"`
	// RPC, when set, is the host:port of CometBFT's RPC server, which
	// the light clients of nodes that join by state sync ask for
	// headers; none by default.
	RPC string `json:"rpc,omitempty"`
	// StateSync, when set, makes a node that has applied no block
	// restore a snapshot of the validators' state instead of replaying
	// the chain.
	StateSync *stateSyncFile `json:"state_sync,omitempty"`
}

// stateSyncFile is how a joining node trusts the chain: two RPC
// servers of validators, and a header (height and hash) it trusts,
// obtained from a validator it trusts, within the trust period.
type stateSyncFile struct {
	RPCServers  []string `json:"rpc_servers"`
	TrustHeight int64    `json:"trust_height"`
	TrustHash   string   `json:"trust_hash"`
	TrustPeriod string   `json:"trust_period,omitempty"` // a Go duration, 168h when empty
}

// DefaultSaveEvery is how many blocks apart a validator opened by
// [Open] saves its application's state.
const DefaultSaveEvery = 100

// appStateFile is where, under a home's data directory, the
// application's state is saved.
const appStateFile = "knhk-app.json"

const homeName = "knhk-bft.json"

// Init writes the homes of n validators of equal power under dir
// (dir/v0 … dir/v{n-1}), listening on host at basePort, basePort+1, …,
// with one genesis naming them all.
func Init(dir string, n int, host string, basePort int, chainID string) error {
	return InitGenesis(dir, n, host, basePort, chainID, Genesis{})
}

// InitGenesis is Init with the application's genesis g (its lease's
// length DefaultLease when it gives none).
func InitGenesis(dir string, n int, host string, basePort int, chainID string, g Genesis) error {
	if n < 1 {
		return fmt.Errorf("a network needs at least one validator, got %d", n)
	}
	// The lease's length is in the genesis, so that every validator
	// grants and expires it alike; edit it there before the first start.
	if g.LeaseMillis == 0 {
		g.LeaseMillis = DefaultLease.Milliseconds()
	}
	if _, err := trustOf(g.LicenceTrust); err != nil {
		return err
	}
	if _, err := deployTrustOf(g.DeployTrust); err != nil {
		return err
	}
	app, err := json.Marshal(&g)
	if err != nil {
		return err
	}
	gen := &types.GenesisDoc{ChainID: chainID, GenesisTime: time.Now().UTC(), ConsensusParams: types.DefaultConsensusParams(),
		AppState: app}
	var ids []string
	var homes []string
	for i := range n {
		home := filepath.Join(dir, fmt.Sprintf("v%d", i))
		if _, err := os.Stat(filepath.Join(home, homeName)); err == nil {
			return fmt.Errorf("%s holds a validator already; pick another directory", home)
		}
		c := cfg.DefaultConfig().SetRoot(home)
		for _, d := range []string{filepath.Dir(c.PrivValidatorKeyFile()), filepath.Dir(c.PrivValidatorStateFile())} {
			if err := os.MkdirAll(d, 0o700); err != nil {
				return err
			}
		}
		pv := privval.GenFilePV(c.PrivValidatorKeyFile(), c.PrivValidatorStateFile())
		pv.Save()
		nk, err := p2p.LoadOrGenNodeKey(c.NodeKeyFile())
		if err != nil {
			return err
		}
		pk, err := pv.GetPubKey()
		if err != nil {
			return err
		}
		gen.Validators = append(gen.Validators, types.GenesisValidator{Address: pk.Address(), PubKey: pk, Power: 10, Name: fmt.Sprintf("v%d", i)})
		ids = append(ids, p2p.IDAddressString(nk.ID(), fmt.Sprintf("%s:%d", host, basePort+i)))
		homes = append(homes, home)
	}
	if err := gen.ValidateAndComplete(); err != nil {
		return err
	}
	root := NewSealRootSecret()
	for i, home := range homes {
		c := cfg.DefaultConfig().SetRoot(home)
		if err := gen.SaveAs(c.GenesisFile()); err != nil {
			return err
		}
		h := homeFile{Listen: fmt.Sprintf("%s:%d", host, basePort+i)}
		for j, id := range ids {
			if j != i {
				h.Peers = append(h.Peers, id)
			}
		}
		b, _ := json.MarshalIndent(&h, "", "  ")
		if err := os.WriteFile(filepath.Join(home, homeName), b, 0o600); err != nil {
			return err
		}
		// The sealed tenants' keys derive from it (sealroot.go), in
		// every home alike, as this writes every validator's keys.
		if err := WriteSealRoot(home, root); err != nil {
			return err
		}
	}
	return nil
}

// HomeGenesis returns the application's part of the genesis of the
// validator of home (what knhk cluster bft-init wrote there).
func HomeGenesis(home string) (*Genesis, error) {
	doc, err := types.GenesisDocFromFile(cfg.DefaultConfig().SetRoot(home).GenesisFile())
	if err != nil {
		return nil, fmt.Errorf("%s is not a validator home (knhk cluster bft-init writes one): %w", home, err)
	}
	return decodeGenesis(doc.AppState)
}

// Open starts the validator of home with app. Its consensus halts (and
// logs why to logOutput) when the block the others commit does not
// match app's state.
func Open(home string, app *App, logOutput io.Writer) (*nm.Node, error) {
	b, err := os.ReadFile(filepath.Join(home, homeName))
	if err != nil {
		return nil, fmt.Errorf("%s is not a validator home (knhk cluster bft-init writes one): %w", home, err)
	}
	var h homeFile
	if err := json.Unmarshal(b, &h); err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Join(home, homeName), err)
	}
	c := cfg.DefaultConfig().SetRoot(home)
	c.P2P.ListenAddress = "tcp://" + h.Listen
	c.P2P.PersistentPeers = strings.Join(h.Peers, ",")
	c.P2P.AddrBookStrict = false
	c.P2P.AllowDuplicateIP = true
	c.P2P.PexReactor = false
	c.RPC.ListenAddress = ""
	if h.RPC != "" {
		c.RPC.ListenAddress = "tcp://" + h.RPC
	}
	c.ProxyApp = ""
	// Nobody searches transactions, and CometBFT never closes the
	// index's database, which would keep a restarted validator in the
	// same process from opening it.
	c.TxIndex.Indexer = "null"
	if ss := h.StateSync; ss != nil {
		c.StateSync.Enable = true
		for _, r := range ss.RPCServers {
			if !strings.Contains(r, "://") {
				r = "tcp://" + r
			}
			c.StateSync.RPCServers = append(c.StateSync.RPCServers, r)
		}
		c.StateSync.TrustHeight, c.StateSync.TrustHash = ss.TrustHeight, ss.TrustHash
		// Look for snapshots for 5s (CometBFT's least), not 15: the
		// validators offer their last three saves only.
		c.StateSync.DiscoveryTime = 5 * time.Second
		if ss.TrustPeriod != "" {
			d, err := time.ParseDuration(ss.TrustPeriod)
			if err != nil {
				return nil, fmt.Errorf("%s: state_sync.trust_period: %v", filepath.Join(home, homeName), err)
			}
			c.StateSync.TrustPeriod = d
		}
		if err := c.StateSync.ValidateBasic(); err != nil {
			return nil, fmt.Errorf("%s: state_sync: %v", filepath.Join(home, homeName), err)
		}
	}
	// A case waits for each of its events' blocks: wait 200ms for late
	// votes after a commit instead of CometBFT's default second.
	c.Consensus.TimeoutCommit = 200 * time.Millisecond
	allowWrites(c) // inflight.go
	for _, f := range []string{c.PrivValidatorKeyFile(), c.PrivValidatorStateFile(), c.NodeKeyFile(), c.GenesisFile()} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("validator home %s: %w", home, err)
		}
	}
	if h.SaveEvery < 0 || h.KeepBlocks < 0 {
		return nil, fmt.Errorf("%s: save_every %d and keep_blocks %d must not be negative", filepath.Join(home, homeName), h.SaveEvery, h.KeepBlocks)
	}
	if h.SaveEvery == 0 {
		h.SaveEvery = DefaultSaveEvery
	}
	if err := os.MkdirAll(c.DBDir(), 0o700); err != nil {
		return nil, err
	}
	if err := app.Persist(Persistence{Path: filepath.Join(c.DBDir(), appStateFile), Every: h.SaveEvery, KeepBlocks: h.KeepBlocks}); err != nil {
		return nil, fmt.Errorf("validator home %s: %w", home, err)
	}
	pv := privval.LoadFilePV(c.PrivValidatorKeyFile(), c.PrivValidatorStateFile())
	nk, err := p2p.LoadNodeKey(c.NodeKeyFile())
	if err != nil {
		return nil, err
	}
	logger := cmtlog.NewFilter(cmtlog.NewTMLogger(cmtlog.NewSyncWriter(logOutput)), cmtlog.AllowError())
	// A state saved before the incremental hash replays the blocks
	// after it with the hashes the chain recorded (legacyreplay.go).
	rec := &chainRecord{}
	app.setRecorded(rec.appHash)
	node, err := nm.NewNode(c, pv, nk, proxy.NewLocalClientCreator(app), nm.DefaultGenesisDocProviderFunc(c),
		dbProvider(closeGrace(c), rec.opened), nm.DefaultMetricsProvider(c.Instrumentation), logger)
	if err != nil {
		return nil, err
	}
	if err := node.Start(); err != nil {
		return nil, err
	}
	return node, nil
}

// Key returns the consensus key of node's validator, which signs its
// lease and its events; a node whose key is not in its home (a remote
// signer) cannot drive.
func Key(node *nm.Node) (crypto.PrivKey, error) {
	pv, ok := node.PrivValidator().(*privval.FilePV)
	if !ok {
		return nil, fmt.Errorf("the validator's key is not a file in its home (%T): it cannot sign as a driver", node.PrivValidator())
	}
	return pv.Key.PrivKey, nil
}

// InitNode writes under dir the home of a node that joins the network
// of validator home from later: its own keys (it is no validator of the
// genesis), home's genesis, and as peers home's peers and home itself;
// it listens on listen (host:port). Edit its knhk-bft.json to join by
// state sync.
func InitNode(dir, from, listen string) error {
	b, err := os.ReadFile(filepath.Join(from, homeName))
	if err != nil {
		return fmt.Errorf("%s is not a validator home: %w", from, err)
	}
	var fh homeFile
	if err := json.Unmarshal(b, &fh); err != nil {
		return fmt.Errorf("%s: %v", filepath.Join(from, homeName), err)
	}
	if _, err := os.Stat(filepath.Join(dir, homeName)); err == nil {
		return fmt.Errorf("%s holds a node already; pick another directory", dir)
	}
	fc := cfg.DefaultConfig().SetRoot(from)
	gen, err := types.GenesisDocFromFile(fc.GenesisFile())
	if err != nil {
		return err
	}
	fk, err := p2p.LoadNodeKey(fc.NodeKeyFile())
	if err != nil {
		return err
	}
	c := cfg.DefaultConfig().SetRoot(dir)
	for _, d := range []string{filepath.Dir(c.PrivValidatorKeyFile()), filepath.Dir(c.PrivValidatorStateFile())} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	privval.GenFilePV(c.PrivValidatorKeyFile(), c.PrivValidatorStateFile()).Save()
	if _, err := p2p.LoadOrGenNodeKey(c.NodeKeyFile()); err != nil {
		return err
	}
	if err := gen.SaveAs(c.GenesisFile()); err != nil {
		return err
	}
	h := homeFile{Listen: listen, Peers: append(append([]string(nil), fh.Peers...), p2p.IDAddressString(fk.ID(), fh.Listen))}
	b, _ = json.MarshalIndent(&h, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, homeName), b, 0o600); err != nil {
		return err
	}
	// The seal root as from holds it now: a sealed tenant's events are
	// opened by every node that applies them (sealroot.go).
	if r, err := os.ReadFile(filepath.Join(from, SealRootFile)); err == nil {
		return os.WriteFile(filepath.Join(dir, SealRootFile), r, 0o600)
	}
	return nil
}
