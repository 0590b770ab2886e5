// This file implements replicated deploys: a program deployed to the
// cluster is a command in the log, and every replica compiles its
// source through the same check and soundness gate (the Compiler the
// node is given) before any case of it starts. A case runs the program
// it started with to its end; a deploy changes what new starts run.

package cluster

import (
	"context"
	"fmt"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
)

// Compiler compiles a deployed source named name through the check and
// soundness gate that knhk check applies. Every node of a cluster must
// compile a source to the same program: a node whose compiler gives
// another hash stops applying (as a node of another program does).
type Compiler func(name string, src []byte) (*ir.Program, error)

// Deploy is the payload of an OpDeploy command.
type Deploy struct {
	Name   string `json:"name"`
	Source []byte `json:"src"`
	// Hash is the program's hash as the proposer compiled it.
	Hash string `json:"hash"`
	// Sigs is the signature file the deploy carried (knhk sign's, of
	// the program's descriptor hash), nil when none: in the log, so that
	// every replica checks it (DeployVerifier).
	Sigs []byte `json:"sigs,omitempty"`
}

// DeployVerifier admits the deploy of the program of descriptor hash
// given the signature file it carried: nil when a trusted key signed
// it. A group whose deploys must be signed (a tenant with a trust
// directory) has one: its leader asks it before it proposes a deploy,
// for a clear refusal, and every replica before it compiles one from
// the log, so that a deploy that reached the log unsigned or tampered
// is refused on every node. It must answer alike on every node (the
// same trusted keys: a tenant's trust directory is copied from the
// founding node).
type DeployVerifier func(hash string, sigs []byte) error

// SignatureError is a deploy refused by the DeployVerifier.
type SignatureError struct{ Err error }

func (e *SignatureError) Error() string { return e.Err.Error() }
func (e *SignatureError) Unwrap() error { return e.Err }

// SetDeployVerifier makes the FSM refuse deploys v does not admit; nil
// admits every deploy that compiles.
func (f *FSM) SetDeployVerifier(v DeployVerifier) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.verify = v
}

// program is one program the FSM runs cases of.
type program struct {
	hash string
	p    *ir.Program // nil for the node's own (the FSM was given its machine)
	m    *engine.Machine
	// name, src and index: a deployed program's file name, source and
	// the raft index of its deploy (0 for the node's own).
	name  string
	src   []byte
	index uint64
}

// DeployedProgram describes a program deployed through the log.
type DeployedProgram struct {
	Hash    string
	Name    string
	Index   uint64 // the raft index of the deploy
	Program *ir.Program
	// Source is the deployed source (the web console shows it).
	Source []byte
}

// SetCompiler sets how the FSM compiles deployed sources; without one
// it cannot apply a deploy (it stops applying rather than drift from
// the replicas that did).
func (f *FSM) SetCompiler(c Compiler) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.compile = c
}

// applyDeploy compiles and adds a deployed program. f.mu is held.
func (f *FSM) applyDeploy(d *Deploy, index uint64) error {
	if _, ok := f.progs[d.Hash]; ok {
		return nil // deployed before: a deploy is idempotent
	}
	if f.compile == nil {
		f.broken = fmt.Errorf("%w: the log deploys program %s and this node has no compiler", ErrProgram, short(d.Hash))
		return f.broken
	}
	if f.verify != nil {
		// Before compiling: a source nobody trusted signed is not even
		// checked. The hash it is signed for must then be what the
		// source compiles to (newProgram).
		if err := f.verify(d.Hash, d.Sigs); err != nil {
			return &SignatureError{fmt.Errorf("deploy of %s refused: %w", d.Name, err)}
		}
	}
	p, err := f.compile(d.Name, d.Source)
	if err != nil {
		// Every replica's gate refuses it the same way.
		return fmt.Errorf("deploy of %s refused: %w", d.Name, err)
	}
	pr, err := newProgram(p, d, index)
	if err != nil {
		f.broken = err
		return err
	}
	f.progs[pr.hash] = pr
	f.deploys = append(f.deploys, pr.hash)
	return nil
}

func newProgram(p *ir.Program, d *Deploy, index uint64) (*program, error) {
	h, err := p.Hash()
	if err != nil {
		return nil, err
	}
	if h != d.Hash {
		return nil, fmt.Errorf("%w: %s compiles to program %s on this node, to %s on the node that deployed it", ErrProgram, d.Name, short(h), short(d.Hash))
	}
	m, err := engine.NewMachine(p)
	if err != nil {
		return nil, err
	}
	return &program{hash: h, p: p, m: m, name: d.Name, src: d.Source, index: index}, nil
}

// Deployed lists the programs deployed through the log, oldest first.
func (f *FSM) Deployed() []DeployedProgram {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]DeployedProgram, 0, len(f.deploys))
	for _, h := range f.deploys {
		p := f.progs[h]
		out = append(out, DeployedProgram{Hash: h, Name: p.name, Index: p.index, Program: p.p, Source: p.src})
	}
	return out
}

// CaseProgram returns the hash of the program case id runs, "" for a
// case the FSM does not hold.
func (f *FSM) CaseProgram(id string) string {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if r := f.cases[id]; r != nil {
		return f.hashOf(r)
	}
	return ""
}

// hashOf is the program hash of r. f.mu is held.
func (f *FSM) hashOf(r *replica) string {
	if r.prog == "" {
		return f.prog
	}
	return r.prog
}

// machineOf is the machine of r's program. f.mu is held.
func (f *FSM) machineOf(r *replica) *engine.Machine {
	if p := f.progs[f.hashOf(r)]; p != nil {
		return p.m
	}
	return f.m
}

// MachineOf returns the machine of program hash, nil when the FSM does
// not know it.
func (f *FSM) MachineOf(hash string) *engine.Machine {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if p := f.progs[hash]; p != nil {
		return p.m
	}
	return nil
}

// DeployedProgram returns the program deployed through the log as
// hash (not the node's own): one map lookup, for the reads that ask it
// per case, where Deployed copies every deploy's record.
func (f *FSM) DeployedProgram(hash string) (*ir.Program, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if p := f.progs[hash]; p != nil && p.p != nil {
		return p.p, true
	}
	return nil, false
}

// Program returns the program of hash: the node's own or one deployed
// through the log.
func (n *Node) Program(hash string) (*ir.Program, bool) {
	if hash == n.hash || hash == "" {
		return n.cfg.Program, true
	}
	return n.fsm.DeployedProgram(hash)
}

// Deploy compiles src (named name) with the node's Compiler and, once
// it passes, commits it to the log, where every replica compiles it the
// same way. It returns the program's hash; deploying a program the
// cluster has is a no-op. Only the leader deploys.
func (n *Node) Deploy(ctx context.Context, name string, src []byte) (string, error) {
	return n.DeploySigned(ctx, name, src, nil)
}

// DeploySigned is Deploy with the signature file sigs the deploy
// carried, which goes into the log with it. With a
// [Config.VerifyDeploy], a deploy it does not admit is refused, a
// [*SignatureError], before it is proposed.
func (n *Node) DeploySigned(ctx context.Context, name string, src, sigs []byte) (string, error) {
	if _, err := n.leader(); err != nil {
		return "", err
	}
	if n.cfg.Compile == nil {
		return "", fmt.Errorf("this node takes no deploys (it has no compiler)")
	}
	p, err := n.cfg.Compile(name, src)
	if err != nil {
		return "", err
	}
	h, err := p.Hash()
	if err != nil {
		return "", err
	}
	if _, ok := n.Program(h); ok {
		return h, nil
	}
	if v := n.cfg.VerifyDeploy; v != nil {
		if err := v(h, sigs); err != nil {
			return "", &SignatureError{fmt.Errorf("deploy of %s refused: %w", name, err)}
		}
	}
	if n.cfg.AdmitDeploy != nil {
		if err := n.cfg.AdmitDeploy(h); err != nil {
			return "", NotAdmitted(err)
		}
	}
	_, err = n.propose(ctx, &Command{Op: OpDeploy, Program: n.hash, Deploy: &Deploy{Name: name, Source: src, Hash: h, Sigs: sigs}})
	return h, err
}
