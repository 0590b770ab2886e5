// This file implements deploys on a raft cluster: Deploy compiles the
// source through the check and soundness gate of a single knhk serve
// (ClusterCompile), and the node commits it to the log, where every
// replica compiles it the same way (runtime/cluster's Deploy). Starts
// name a program, or run the latest deployed one that declares the
// workflow; a case keeps the program it started in.

package server

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/compiler"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/runtime/cluster"
)

// ClusterCompile compiles a deployed source as Service.Deploy does: the
// check, then the soundness gate, and no imports (a deploy is one
// file). A refusal is an [*Error] carrying the diagnostics. It is the
// runtime/cluster Compiler of knhk serve --node.
func ClusterCompile(name string, src []byte) (*ir.Program, error) {
	switch {
	case len(src) == 0:
		return nil, errf(CodeInvalidArgument, "source", "give a program: its source")
	case len(src) > maxSource:
		return nil, errf(CodeInvalidArgument, "source", "the program is larger than 8 MiB")
	}
	cfg := &check.Config{ReadFile: func(path string) ([]byte, error) {
		return nil, fmt.Errorf("a deployed source cannot import files (%s)", path)
	}}
	pkg, info, ds := check.CheckSource(name, src, cfg)
	if ds.HasErrors() || pkg == nil {
		return nil, &Error{Code: CodeInvalidArgument, Field: "source", Message: errorsOnly(ds).Error(), Diags: errorsOnly(ds)}
	}
	b, gds := compiler.Gate(pkg, info, nil)
	if gds.HasErrors() || b.Program == nil {
		return nil, &Error{Code: CodeInvalidArgument, Field: "source", Message: errorsOnly(gds).Error(), Diags: errorsOnly(gds)}
	}
	return b.Program, nil
}

// Deploy commits a program's source to the cluster's log once it
// passes the gate. A compiled descriptor is refused: every node must
// compile the source itself. The signature file the deploy carried
// (client.SignatureHeader, as knhk run --server sends FILE.sig) goes
// into the log with it, for a group whose deploys must be signed; a
// deploy such a group refuses is failed_precondition, as on a single
// server.
func (r *clusterRPC) Deploy(ctx context.Context, req *connect.Request[knhkv1.DeployRequest]) (*connect.Response[knhkv1.DeployResponse], error) {
	name := req.Msg.Name
	if name == "" {
		name = "main.knhk"
	}
	if len(req.Msg.Compiled) > 0 {
		return nil, toConnect(errf(CodeInvalidArgument, "compiled", "a cluster compiles what it deploys on every node: deploy the source, not a descriptor"))
	}
	sigs, err := deploySignature(req.Header()) // connect.go
	if err != nil {
		return nil, err
	}
	hash, err := r.a.n.DeploySigned(ctx, name, []byte(req.Msg.Source), sigs)
	if err != nil {
		var se *cluster.SignatureError
		if errors.As(err, &se) {
			return nil, toConnect(errf(CodeFailedPrecondition, "descriptor", "%v", err))
		}
		if _, ok := err.(*Error); ok {
			return nil, toConnect(err)
		}
		return nil, connectErr(err)
	}
	p, _ := r.a.n.Program(hash)
	return connect.NewResponse(&knhkv1.DeployResponse{Hash: hash, Workflows: workflowsOf(p)}), nil
}

// ListPrograms lists the deployed programs, newest first; the program
// the nodes were started with is the oldest.
func (r *clusterRPC) ListPrograms(context.Context, *connect.Request[knhkv1.ListProgramsRequest]) (*connect.Response[knhkv1.ListProgramsResponse], error) {
	out := &knhkv1.ListProgramsResponse{}
	ds := r.a.n.FSM().Deployed()
	for i := len(ds) - 1; i >= 0; i-- {
		out.Programs = append(out.Programs, &knhkv1.Program{Hash: ds[i].Hash, Name: ds[i].Name, Workflows: workflowsOf(ds[i].Program)})
	}
	out.Programs = append(out.Programs, &knhkv1.Program{Hash: r.a.n.ProgramHash(), Workflows: workflowsOf(r.a.prog)})
	return connect.NewResponse(out), nil
}

// workflowsOf lists the workflows a client may start in p, sorted.
func workflowsOf(p *ir.Program) []string {
	var out []string
	if p == nil {
		return nil
	}
	for _, n := range p.Nets {
		if n != nil && !strings.Contains(n.Name, ".") {
			out = append(out, n.Name)
		}
	}
	sort.Strings(out)
	return out
}

// startProgram picks the program a start of workflow wf runs: hash when
// given, else the latest deployed program that declares wf.
func (a *ClusterAPI) startProgram(hash, wf string) (string, *ir.Program, error) {
	if wf == "" || strings.Contains(wf, ".") {
		return "", nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("name the workflow to start (got %q)", wf))
	}
	if hash != "" {
		p, ok := a.n.Program(hash)
		if !ok {
			return "", nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("the cluster has no program %.12s (knhk run --server deploys it)", hash))
		}
		if p.Net(wf) == nil {
			return "", nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("program %.12s has no workflow %s (it declares: %v)", hash, wf, workflowsOf(p)))
		}
		return hash, p, nil
	}
	ds := a.n.FSM().Deployed()
	for i := len(ds) - 1; i >= 0; i-- {
		if ds[i].Program.Net(wf) != nil {
			return ds[i].Hash, ds[i].Program, nil
		}
	}
	if a.prog.Net(wf) == nil {
		return "", nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("the program has no workflow %s", wf))
	}
	return a.n.ProgramHash(), a.prog, nil
}

// progOf returns the program case id runs (the node's own when the case
// is unknown).
func (a *ClusterAPI) progOf(id string) *ir.Program {
	if p, ok := a.n.Program(a.n.FSM().CaseProgram(id)); ok && p != nil {
		return p
	}
	return a.prog
}

// caseHash returns the hash of the program case id runs.
func (a *ClusterAPI) caseHash(id string) string {
	if h := a.n.FSM().CaseProgram(id); h != "" {
		return h
	}
	return a.n.ProgramHash()
}
