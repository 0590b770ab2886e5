// This file implements the deployment's licence on a CometBFT chain
// (knhk serve --bft --license): the genesis names the licence issuers'
// public keys (knhk cluster bft-init --license-trust), a validator
// offers its --license file to the chain in a licence transaction, and
// the chain takes a licence that verifies against those keys and is not
// older than the one it holds. Every validator then decides each start
// of the cluster's own space by the licence the chain holds, at the
// block's time (licence.go), so a Byzantine driver cannot start beyond
// it, and no validator can put its own licence in: the issuer keys are
// the genesis's, which every validator agreed on before the first
// block.

package bft

import (
	"bytes"
	"context"
	"fmt"

	"github.com/cometbft/cometbft/crypto"

	"github.com/knhk/knhk/runtime/license"
	"github.com/knhk/knhk/runtime/sign"
)

// trustOf parses licence issuer keys (PEM).
func trustOf(pems []string) (*sign.TrustSet, error) { return keysOf("licence issuer key", pems) }

// keysOf parses public keys (PEM), what they are for naming the one
// that does not parse.
func keysOf(what string, pems []string) (*sign.TrustSet, error) {
	var keys []*sign.PublicKey
	for i, p := range pems {
		k, err := sign.ParsePublicKey([]byte(p))
		if err != nil {
			return nil, fmt.Errorf("%s %d: %w", what, i, err)
		}
		keys = append(keys, k)
	}
	return sign.NewTrustSet(keys...), nil
}

// checkLicence verifies b as a deployment licence the chain may take:
// one that verifies against the genesis's issuer keys, names no tenant,
// and is not older than the one the chain holds; a.mu is held.
func (a *App) checkLicence(b []byte) (*license.License, error) {
	if len(a.licTrust) == 0 {
		return nil, fmt.Errorf("%w: the chain's genesis names no licence issuer key (write the homes with knhk cluster bft-init --license-trust KEY)", ErrLicence)
	}
	l, err := license.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLicence, err)
	}
	ts, err := trustOf(a.licTrust)
	if err != nil {
		return nil, err
	}
	if err := l.Verify(ts); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrLicence, err)
	}
	if l.Tenant != "" {
		return nil, fmt.Errorf("%w: licence %s is tenant %s's, not the deployment's (a tenant's licence goes with knhk tenant create --license)", ErrLicence, l.ID, l.Tenant)
	}
	if cur, err := a.deploymentLicence(); err == nil && cur != nil && l.Issued.Before(cur.Issued) {
		return nil, fmt.Errorf("%w: licence %s was issued before the chain's (%s)", ErrLicence, l.ID, cur.ID)
	}
	return l, nil
}

// takeLicence applies a licence transaction; a.mu is held.
func (a *App) takeLicence(b []byte) error {
	if bytes.Equal(b, a.licence) {
		return nil
	}
	l, err := a.checkLicence(b)
	if err != nil {
		return err
	}
	a.licence = bytes.Clone(b)
	a.chainLic = chainLicence{b: a.licence, l: l}
	return nil
}

// chainLicence is the parsed licence the chain holds.
type chainLicence struct {
	b []byte
	l *license.License
}

// deploymentLicence returns the licence the chain holds, nil without
// one; a.mu is held.
func (a *App) deploymentLicence() (*license.License, error) {
	if len(a.licence) == 0 {
		return nil, nil
	}
	if !bytes.Equal(a.chainLic.b, a.licence) {
		// Loaded from a saved state, whose hash vouches for it:
		// parsed again once.
		l, err := license.Parse(a.licence)
		if err != nil {
			return nil, fmt.Errorf("the chain's licence: %w", err)
		}
		a.chainLic = chainLicence{b: a.licence, l: l}
	}
	return a.chainLic.l, nil
}

// Licence returns the deployment licence the chain holds, nil without
// one.
func (a *App) Licence() *license.License {
	a.mu.Lock()
	defer a.mu.Unlock()
	l, _ := a.deploymentLicence()
	return l
}

// OfferLicence signs licence file b with the validator's key and
// offers it to the chain through node, without waiting for its block.
func (a *App) OfferLicence(ctx context.Context, node Broadcaster, key crypto.PrivKey, b []byte) error {
	t := &Tx{Kind: KindLicence, Licence: b}
	if err := t.Sign(key, a.ChainID()); err != nil {
		return err
	}
	tx, err := t.Encode()
	if err != nil {
		return err
	}
	res, err := node.BroadcastTxSync(ctx, tx)
	if err != nil {
		return err
	}
	if res.Code != codeOK {
		return fmt.Errorf("the chain refused the licence: %s", res.Log)
	}
	return nil
}
