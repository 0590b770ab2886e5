// This file implements signed deploys on a CometBFT chain: knhk cluster
// bft-init --trust DIR writes the keys a deploy must be signed by into
// the genesis, and every validator checks a deploy's signature against
// them, in CheckTx and in the block (runtime/cluster/bft deploy.go).
// knhk serve --bft HOME --trust DIR is the operator's statement that
// the chain trusts exactly the keys of DIR: the validator refuses to
// start when the genesis's keys are others, since it could not check
// deploys against keys the other validators did not agree on.

package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/knhk/knhk/runtime/cluster/bft"
	"github.com/knhk/knhk/runtime/sign"
)

// bftServeTrust checks knhk serve --bft HOME's --trust and --policy.
func bftServeTrust(fs *flag.FlagSet, o *serveSign, home string) error {
	policy := false
	fs.Visit(func(f *flag.Flag) { policy = policy || f.Name == "policy" })
	if policy {
		return errors.New("--policy is not taken with --bft: a validator admits a deploy signed by any key of the genesis's (knhk cluster bft-init --trust), whatever its class")
	}
	if o.trust == "" {
		return nil
	}
	ts, err := sign.LoadTrustDir(o.trust)
	if err != nil {
		return fmt.Errorf("--trust: %w (want a directory of .pub files)", err)
	}
	g, err := bft.HomeGenesis(home)
	if err != nil {
		return err
	}
	if err := bft.CheckDeployTrust(g, ts); err != nil {
		return fmt.Errorf("--trust %s: %w", o.trust, err)
	}
	return nil
}
