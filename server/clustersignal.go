package server

import (
	"fmt"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/caseio"
	"github.com/knhk/knhk/runtime/engine"
)

// clusterSignalArgs checks that root declares signal name and decodes
// its JSON payload into engine values. The raft and BFT HTTP handlers
// and the cluster Connect service share it so that a bad signal reads
// the same whichever API a client came through; an empty payload means
// "no payload", as it does for a single node.
func clusterSignalArgs(prog *ir.Program, root *ir.Net, name string, payload []byte) ([]any, error) {
	sig := caseio.FindSignal(prog, root, name)
	if sig == nil {
		return nil, fmt.Errorf("workflow %s has no signal %s (it has: %v)", root.Name, name, caseio.SignalNames(root))
	}
	if len(payload) == 0 {
		payload = nil
	}
	vals, err := caseio.DecodePayload(prog, sig, payload)
	if err != nil {
		return nil, fmt.Errorf("bad payload for %s: %w", name, err)
	}
	return engine.Boxed(vals), nil
}
