package cluster

import (
	"encoding/hex"
	"testing"
)

// v2Golden is the state hash version 2 computed, before it covered the
// tenancy, the nonces, the audit chain and the accelerator time, for
// the state of v2Commands.
const v2Golden = "68988bb68af50e25b424135f4df7eb56b6c768eeaafd76d8df2333f6c5a3a484"

// v2Commands are everyFieldCommands without what version 2 did not
// hash (a riding audit record included): the state every Byzantine chain written before version 3 holds
// (its driver proposes only events without nonces or accelerator time).
func v2Commands(tb testing.TB, h string) []*Command {
	var out []*Command
	for _, c := range everyFieldCommands(tb, h) {
		switch {
		case c.Op == OpTenant, c.Op == OpAudit, c.Op == OpMeter:
			continue
		case c.Op == OpErase, c.Case == "e":
			continue // the erased case, and its erasure (erase.go)
		}
		c.Nonce, c.Accel, c.Audit = nil, nil, nil
		out = append(out, c)
	}
	return out
}

// TestStateHashV2Compatible: a state without what version 3 added
// hashes exactly as version 2 did, so the blocks of an existing chain
// replay to the application hashes their headers hold.
func TestStateHashV2Compatible(t *testing.T) {
	f, h := newTestFSM(t)
	f.SetCompiler(gateCompile)
	for i, c := range v2Commands(t, h) {
		if r := f.Apply(entry(t, uint64(i+1), c)).(*Result); r.Err != nil {
			t.Fatalf("command %d (%s): %v", i, c.Op, r.Err)
		}
	}
	got := hex.EncodeToString(mustHash(t, f))
	if got != v2Golden {
		t.Fatalf("state hash %s, version 2 hashed it %s", got, v2Golden)
	}
}
