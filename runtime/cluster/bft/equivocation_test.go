package bft

import (
	"crypto/rand"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/p2p"
	cmtcons "github.com/cometbft/cometbft/proto/tendermint/consensus"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/cometbft/cometbft/types"
)

// consensusVoteChannel is CometBFT's consensus vote channel (0x22).
const consensusVoteChannel = byte(0x22)

// TestEquivocationIsReported makes one validator of four sign two
// conflicting prevotes for the same height and round and send both: the
// others turn them into evidence, a block carries it, and every App
// sees the validator's misbehavior; the chain goes on.
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
	h := vs[0].node.BlockStore().Height()
	waitFor(t, "the chain to go on", func() bool { return vs[1].node.BlockStore().Height() > h+1 })
}
