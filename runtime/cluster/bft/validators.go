// This file implements the application's copy of the validator set and
// what it does with misbehavior: a validator that a block proves to
// have equivocated or attacked a light client loses its voting power.

package bft

import (
	"fmt"
	"sort"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/crypto"
	cryptoenc "github.com/cometbft/cometbft/crypto/encoding"
)

// member is a validator the application knows.
type member struct {
	pub   crypto.PubKey
	power int64
}

// Removal records a validator that lost its power for misbehavior.
type Removal struct {
	Validator string `json:"validator"` // its address
	Kind      string `json:"kind"`      // duplicate vote, light client attack
	// Height is the block whose evidence removed it; the validator set
	// without it signs from Height+2 on (CometBFT's delay).
	Height         int64 `json:"height"`
	EvidenceHeight int64 `json:"evidence_height"` // where it misbehaved
	Power          int64 `json:"power"`           // the power it had
}

// ValidatorInfo is one validator in [App.Validators].
type ValidatorInfo struct {
	Address string   `json:"address"`
	Power   int64    `json:"power"`
	Removed *Removal `json:"removed,omitempty"`
}

// setValidators records the genesis validators; a.mu is held.
func (a *App) setValidators(vs []abci.ValidatorUpdate) error {
	for _, v := range vs {
		pub, err := cryptoenc.PubKeyFromProto(v.PubKey)
		if err != nil {
			return fmt.Errorf("genesis validator: %v", err)
		}
		a.vals[pub.Address().String()] = &member{pub: pub, power: v.Power}
	}
	return nil
}

// punish turns the block's misbehavior into validator updates of power
// 0, in the block's order, once per validator; a.mu is held. Every
// validator computes the same updates from the same block. A validator
// already removed, or not known, is skipped (CometBFT refuses to remove
// one that is not in the set), and so is one whose removal would leave
// no voting power at all.
func (a *App) punish(ms []abci.Misbehavior, height int64) []abci.ValidatorUpdate {
	var ups []abci.ValidatorUpdate
	for _, m := range ms {
		addr := crypto.Address(m.Validator.Address).String()
		v := a.vals[addr]
		if v == nil || v.power == 0 {
			continue
		}
		if a.power()-v.power <= 0 {
			continue
		}
		pk, err := cryptoenc.PubKeyToProto(v.pub)
		if err != nil {
			continue
		}
		ups = append(ups, abci.ValidatorUpdate{PubKey: pk, Power: 0})
		a.removed = append(a.removed, Removal{Validator: addr, Kind: kindName(m.Type), Height: height, EvidenceHeight: m.Height, Power: v.power})
		v.power = 0
		if a.lease.Driver == addr {
			// A removed validator drives no more: the next claim takes
			// the next term at once.
			a.lease.Driver, a.lease.API, a.lease.Expiry = "", "", 0
		}
	}
	return ups
}

func kindName(t abci.MisbehaviorType) string {
	switch t {
	case abci.MisbehaviorType_DUPLICATE_VOTE:
		return "duplicate vote"
	case abci.MisbehaviorType_LIGHT_CLIENT_ATTACK:
		return "light client attack"
	}
	return t.String()
}

// power is the voting power of the set; a.mu is held.
func (a *App) power() int64 {
	var p int64
	for _, v := range a.vals {
		p += v.power
	}
	return p
}

// Validators returns the validators the application knows, by address,
// with the removal of each one removed.
func (a *App) Validators() []ValidatorInfo {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]ValidatorInfo, 0, len(a.vals))
	for addr, v := range a.vals {
		vi := ValidatorInfo{Address: addr, Power: v.power}
		for i := range a.removed {
			if a.removed[i].Validator == addr {
				r := a.removed[i]
				vi.Removed = &r
			}
		}
		out = append(out, vi)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out
}

// Removed returns the validators removed for misbehavior, in the order
// of the blocks that removed them.
func (a *App) Removed() []Removal {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]Removal(nil), a.removed...)
}
