package bft

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/p2p"
	cmtcons "github.com/cometbft/cometbft/proto/tendermint/consensus"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/cometbft/cometbft/rpc/client/local"
	"github.com/cometbft/cometbft/types"
)

// consensusVoteChannel is CometBFT's consensus vote channel (0x22).
const consensusVoteChannel = byte(0x22)

// TestEquivocationIsReported makes one validator of four sign two
// conflicting prevotes for the same height and round and send both: the
// others turn them into evidence, a block carries it, and every App
// sees the validator's misbehavior and answers a validator update of
// power 0 for it. Two blocks later the liar is out of the validator
// set, signs no commit, and the other three go on committing.
func TestEquivocationIsReported(t *testing.T) {
	prog := compile(t)
	vs := network(t, prog, 4, -1, nil)
	liar := vs[3]
	idx, _ := liar.vals.GetByAddress(liar.pv.Key.Address)
	if idx < 0 {
		t.Fatal("the liar is not in the validator set")
	}
	waitFor(t, "a first block", func() bool { return vs[0].node.BlockStore().Height() >= 2 })
	vote := func(h int64) *cmtproto.Vote {
		hash := make([]byte, 32)
		rand.Read(hash)
		part := make([]byte, 32)
		rand.Read(part)
		v := &types.Vote{Type: cmtproto.PrevoteType, Height: h, Round: 0, Timestamp: time.Now(),
			BlockID:          types.BlockID{Hash: hash, PartSetHeader: types.PartSetHeader{Total: 1, Hash: part}},
			ValidatorAddress: liar.pv.Key.Address, ValidatorIndex: idx}
		p := v.ToProto()
		sig, err := liar.pv.Key.PrivKey.Sign(types.VoteSignBytes("knhk-test", p))
		if err != nil {
			t.Fatal(err)
		}
		p.Signature = sig
		return p
	}
	seen := func() bool {
		for _, v := range vs[:3] {
			for _, m := range v.app.Misbehavior() {
				if m.Type == abci.MisbehaviorType_DUPLICATE_VOTE && string(m.Validator.Address) == string(liar.pv.Key.Address) {
					return true
				}
			}
		}
		return false
	}
	deadline := time.Now().Add(30 * time.Second)
	for !seen() {
		if time.Now().After(deadline) {
			t.Fatal("no block reported the equivocation")
		}
		// Two prevotes for the height the others are deciding now.
		h := vs[0].node.BlockStore().Height() + 1
		for _, v := range []*cmtproto.Vote{vote(h), vote(h)} {
			liar.node.Switch().Broadcast(p2p.Envelope{ChannelID: consensusVoteChannel, Message: &cmtcons.Vote{Vote: v}})
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Every honest application removed the liar, in the same block.
	var at int64
	for i, v := range vs[:3] {
		waitFor(t, "the liar's removal", func() bool { return len(v.app.Removed()) == 1 })
		r := v.app.Removed()[0]
		if r.Validator != liar.pv.Key.Address.String() || r.Kind != "duplicate vote" || r.Power != 10 {
			t.Fatalf("validator %d removed %+v", i, r)
		}
		if at != 0 && r.Height != at {
			t.Fatalf("validator %d removed the liar at block %d, another at %d", i, r.Height, at)
		}
		at = r.Height
	}
	// From two blocks on, the liar is out of the set CometBFT uses, and
	// the other three go on committing without it.
	rpc := local.New(vs[0].node)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	waitFor(t, "the set without the liar", func() bool { return vs[0].node.BlockStore().Height() >= at+3 })
	h := at + 2
	res, err := rpc.Validators(ctx, &h, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 3 {
		t.Fatalf("the set at height %d has %d validators", h, res.Total)
	}
	for _, v := range res.Validators {
		if v.Address.String() == liar.pv.Key.Address.String() {
			t.Fatalf("the liar is still in the set at height %d", h)
		}
	}
	top := vs[0].node.BlockStore().Height()
	waitFor(t, "the chain to go on", func() bool { return vs[1].node.BlockStore().Height() > top+3 })
	for height := at; height <= top; height++ {
		if b := vs[1].node.BlockStore().LoadBlockCommit(height); b != nil && height > at+2 {
			for _, sig := range b.Signatures {
				if sig.ValidatorAddress.String() == liar.pv.Key.Address.String() {
					t.Fatalf("the liar signed the commit of block %d", height)
				}
			}
		}
		want, _ := vs[0].app.AppHashAt(height)
		for i, v := range vs[1:3] {
			if got, _ := v.app.AppHashAt(height); string(got) != string(want) {
				t.Fatalf("block %d: validator %d computed another hash", height, i+1)
			}
		}
	}
}
