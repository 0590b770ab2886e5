// This file implements deploys on a validator of the Byzantine mode
// (knhk run --server against knhk serve --bft): the driver compiles the
// source through the gate of a raft node (ClusterCompile) and proposes
// it with the signature file the deploy carried, and every validator
// checks that signature against the genesis's deploy keys and compiles
// the source itself (runtime/cluster/bft deploy.go). A case names the
// program it runs; its reads, signals and queries use that program.

package server

import (
	"context"
	"errors"
	"fmt"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/cluster/bft"
)

// programOf returns the program of hash: the validators' own ("" too)
// or one deployed on the chain.
func (a *BFTAPI) programOf(hash string) (*ir.Program, bool) {
	if hash == "" || hash == a.hash() {
		return a.prog, true
	}
	return a.fsm().DeployedProgram(hash)
}

// caseProgram returns the program case id runs and its hash (the
// validators' own for a case the chain does not hold).
func (a *BFTAPI) caseProgram(id string) (*ir.Program, string) {
	h := a.fsm().CaseProgram(id)
	if p, ok := a.programOf(h); ok && h != "" {
		return p, h
	}
	return a.prog, a.hash()
}

// Deploy answers the validators' own program at once; another program
// is deployed by the driver (a validator that does not drive forwards
// the call, connectRoute) when the chain takes deploys.
func (r *bftRPC) Deploy(ctx context.Context, req *connect.Request[knhkv1.DeployRequest]) (*connect.Response[knhkv1.DeployResponse], error) {
	name := req.Msg.Name
	if name == "" {
		name = "main.knhk"
	}
	if len(req.Msg.Compiled) > 0 {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("every validator compiles what it deploys: deploy the source, not a descriptor"))
	}
	p, err := ClusterCompile(name, []byte(req.Msg.Source))
	if err != nil {
		return nil, toConnect(err)
	}
	hash, err := p.Hash()
	if err != nil {
		return nil, connect.NewError(connect.CodeInternal, err)
	}
	if q, ok := r.a.programOf(hash); ok {
		return connect.NewResponse(&knhkv1.DeployResponse{Hash: hash, Workflows: workflowsOf(q)}), nil
	}
	switch {
	case r.a.tenant != "":
		return nil, connect.NewError(connect.CodeFailedPrecondition, fmt.Errorf("%w: %s is program %.12s; tenant %s's space runs the validators' program %.12s (a tenant deploys nothing on a CometBFT chain)", cluster.ErrProgram, name, hash, r.a.tenant, r.a.hash()))
	case !r.a.app.TakesDeploys():
		return nil, connect.NewError(connect.CodeFailedPrecondition, fmt.Errorf("%w: %s is program %.12s, the validators run %.12s and this chain takes no deploys", cluster.ErrProgram, name, hash, r.a.hash()))
	}
	sigs, err := deploySignature(req.Header()) // connect.go
	if err != nil {
		return nil, err
	}
	d, err := r.driver()
	if err != nil {
		return nil, err
	}
	if _, err := d.Deploy(ctx, name, []byte(req.Msg.Source), sigs); err != nil {
		if errors.Is(err, bft.ErrUnsignedDeploy) {
			return nil, connect.NewError(connect.CodeFailedPrecondition, err)
		}
		return nil, bftConnectErr(err)
	}
	return connect.NewResponse(&knhkv1.DeployResponse{Hash: hash, Workflows: workflowsOf(p)}), nil
}
