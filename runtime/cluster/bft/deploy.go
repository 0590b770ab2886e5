// This file implements deploys on a CometBFT chain (knhk run --server
// against knhk serve --bft): the driver proposes a deploy, a command of
// the cluster's own space carrying the program's source and the
// signature file it came with, and every validator compiles the source
// through the same gate and adds the program, whose cases the driver
// then runs beside the validators' own program's.
//
// Signed deploys: the genesis names the keys a deploy must be signed by
// (knhk cluster bft-init --trust DIR, [Genesis].DeployTrust), as it
// names the licence issuers' (chainlicence.go). Every validator checks a
// deploy's signature against them in CheckTx and again when the block
// applies it, before it compiles the source, and checks that the source
// compiles to the program the signature names. So a Byzantine driver
// cannot deploy an unsigned, tampered or otherwise signed program: the
// honest validators refuse its transaction, and no validator can trust
// a key of its own, since the keys are the genesis's, which every
// validator agreed on before the first block.

package bft

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/sign"
)

// ErrUnsignedDeploy is the outcome of a deploy that no key of the
// genesis's deploy keys signed.
var ErrUnsignedDeploy = errors.New("deploy refused")

// deployTrustOf parses the genesis's deploy keys (PEM).
func deployTrustOf(pems []string) (*sign.TrustSet, error) { return keysOf("deploy key", pems) }

// SetCompiler makes the application take deploys, compiling their
// sources with c (server.ClusterCompile: the check and soundness gate of
// knhk serve --node). Every validator must have the same; call it
// before the node starts.
func (a *App) SetCompiler(c cluster.Compiler) {
	a.compile = c
	a.fsm.SetCompiler(c)
}

// TakesDeploys says whether the application compiles deploys
// ([App.SetCompiler]).
func (a *App) TakesDeploys() bool { return a.compile != nil }

// DeployTrust returns the public keys (PEM) the genesis says a deploy
// must be signed by; none when it takes deploys unsigned.
func (a *App) DeployTrust() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.deployTrust...)
}

// verifyDeploy admits the program of hash given the signature file sigs
// a deploy carried: nil when the genesis names no deploy key, or one of
// them signed it; a.mu is held.
func (a *App) verifyDeploy(hash string, sigs []byte) error {
	if len(a.deployTrust) == 0 {
		return nil
	}
	ts, err := deployTrustOf(a.deployTrust)
	if err != nil {
		return err
	}
	keys := strings.Join(ts.IDs(), ", ")
	if len(sigs) == 0 {
		return fmt.Errorf("%w: descriptor %s is unsigned: the chain's genesis takes deploys signed by key %s (sign it with knhk sign --key KEY FILE; knhk run --server sends FILE.sig)", ErrUnsignedDeploy, hash, keys)
	}
	ss, err := sign.ParseSignatures(sigs)
	if err != nil {
		return fmt.Errorf("%w: descriptor %s: its signature file: %v", ErrUnsignedDeploy, hash, err)
	}
	// Every class of signature: the genesis names the keys, and a
	// policy would be the genesis's too.
	if _, err := ts.VerifyAny(ss, sign.DomainDescriptor, hash, sign.Policy{Min: sign.Classical}); err != nil {
		return fmt.Errorf("%w: descriptor %s: %v (the chain's genesis takes deploys signed by key %s)", ErrUnsignedDeploy, hash, err, keys)
	}
	return nil
}

// checkDeploy checks a deploy command before any FSM sees it, in
// CheckTx and in the block: its signature against the genesis's keys
// first (a source nobody trusted signed is not even compiled), then
// that its source compiles, here, to the program it names. The FSM
// would stop applying on the last (a node that compiles another
// program); a driver's transaction must not be able to stop the honest
// validators, so it is a refusal here. a.mu is held.
func (a *App) checkDeploy(d *cluster.Deploy) error {
	if d == nil || d.Hash == "" || len(d.Source) == 0 {
		return fmt.Errorf("%w: a deploy without its program", cluster.ErrBadCommand)
	}
	if err := a.verifyDeploy(d.Hash, d.Sigs); err != nil {
		return fmt.Errorf("deploy of %s: %w", d.Name, err)
	}
	p, err := a.compile(d.Name, d.Source)
	if err != nil {
		return fmt.Errorf("deploy of %s refused: %w", d.Name, err)
	}
	h, err := p.Hash()
	if err != nil {
		return err
	}
	if h != d.Hash {
		return fmt.Errorf("%w: deploy of %s: its source compiles to program %s, the deploy names %s", cluster.ErrProgram, d.Name, short(h), short(d.Hash))
	}
	return nil
}

// Deploy compiles src (named name) and, once it passes and its
// signature file sigs verifies against the genesis's deploy keys,
// proposes it and returns its program's hash once a block applied it.
// Deploying the validators' own program, or one the chain holds, is a
// no-op. A tenant's space takes no deploys.
func (d *Driver) Deploy(ctx context.Context, name string, src, sigs []byte) (string, error) {
	a := d.app
	switch {
	case d.tenant != "":
		return "", fmt.Errorf("%w: tenant %s's space takes no deploys on a CometBFT chain; it runs the validators' program", cluster.ErrProgram, d.tenant)
	case a.compile == nil:
		return "", errors.New("this validator takes no deploys (it has no compiler)")
	}
	p, err := a.compile(name, src)
	if err != nil {
		return "", err
	}
	h, err := p.Hash()
	if err != nil {
		return "", err
	}
	if h == a.prog || d.fsm().MachineOf(h) != nil {
		return h, nil
	}
	c := &cluster.Command{Op: cluster.OpDeploy, Program: a.prog, Deploy: &cluster.Deploy{Name: name, Source: src, Hash: h, Sigs: sigs}}
	// Refused here with the block's words, before a transaction: the
	// signature (checkDeploy's first check; its second, that src
	// compiles to h, holds, as h was compiled from src just above).
	a.mu.Lock()
	err = a.verifyDeploy(h, sigs)
	a.mu.Unlock()
	if err != nil {
		return "", fmt.Errorf("deploy of %s: %w", name, err)
	}
	if err := d.log.submit(ctx, c); err != nil {
		return "", d.deposed(err)
	}
	return h, nil
}

// CheckDeployTrust checks that trust, the keys a validator's operator
// gave (knhk serve --bft --trust DIR), are the genesis g's deploy keys:
// every validator checks deploys against the genesis's, so a validator
// given other keys would not do what its operator meant.
func CheckDeployTrust(g *Genesis, trust *sign.TrustSet) error {
	if len(g.DeployTrust) == 0 {
		return errors.New("the chain's genesis names no deploy key, so the validators take deploys unsigned; the keys are the genesis's, which every validator agrees on: write the homes with knhk cluster bft-init --trust DIR")
	}
	ts, err := deployTrustOf(g.DeployTrust)
	if err != nil {
		return err
	}
	for _, id := range trust.IDs() {
		if ts.Key(id) == nil {
			return fmt.Errorf("key %s is not a deploy key of the chain's genesis (%s): the validators check deploys against the genesis's keys only (knhk cluster bft-init --trust DIR)", id, strings.Join(ts.IDs(), ", "))
		}
	}
	for _, id := range ts.IDs() {
		if trust.Key(id) == nil {
			return fmt.Errorf("the chain's genesis trusts deploy key %s too, which is not in the directory: every validator takes deploys it signed", id)
		}
	}
	return nil
}
