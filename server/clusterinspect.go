// This file implements what the web console reads, on a cluster node:
// a case as Service.Inspect shows it (its state, input, steps fired and
// history, from the replicated events) and a program by hash. They have
// Service's signatures so that server/console can read a cluster node
// once it takes any source of inspections rather than a *Service (see
// docs/cluster.md).

package server

import (
	"context"
	"errors"

	"github.com/knhk/knhk/compiler/view"
	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/store"
)

// Inspect returns case id as the web console shows it, read on the
// leader; a follower answers Unavailable, naming the leader.
func (a *ClusterAPI) Inspect(ctx context.Context, id string) (*Inspection, error) {
	evs, v, err := a.caseEvents(ctx, id, consistency(ctx))
	if err != nil {
		return nil, serviceErr(err)
	}
	p := a.program(id)
	p.files = a.filesOf(p.Hash)
	sum := a.summaryOf(id, v.State)
	in := &Inspection{Summary: sum, Program: p, State: v.State, Fired: map[Step]bool{}}
	views := map[int32]*view.Graph{}
	// As Service.Inspect does, event by event.
	err = a.newEvents(id).read(evs, func(seq store.Seq, before *engine.State, ev *engine.Event) error {
		in.addEvent(p, views, seq, before, ev)
		return nil
	}, nil)
	if err != nil {
		return nil, &Error{Code: CodeInternal, Message: err.Error(), Err: err}
	}
	if len(in.History) > MaxInspectHistory {
		in.History = in.History[len(in.History)-MaxInspectHistory:]
	}
	return in, nil
}

// ProgramByHash returns a program the cluster runs: the nodes' own or
// one deployed through the log.
func (a *ClusterAPI) ProgramByHash(hash string) (*Program, error) {
	p, ok := a.n.Program(hash)
	if !ok || p == nil {
		return nil, errf(CodeNotFound, "hash", "the cluster has no program %s", hash)
	}
	name := ""
	for _, d := range a.n.FSM().Deployed() {
		if d.Hash == hash {
			name = d.Name
		}
	}
	return &Program{Hash: hash, Name: name, Workflows: workflowsOf(p), prog: p, files: a.filesOf(hash)}, nil
}

// summaryOf is case id's Summary, as a single server's.
func (a *ClusterAPI) summaryOf(id string, st *engine.State) Summary {
	s := (&clusterRPC{a: a}).toSummary(id, st)
	return Summary{ID: id, Workflow: s.Workflow, Program: s.Program, Key: s.BusinessKey, Start: s.StartUnixNano, Status: s.Status,
		Result: s.ResultJson, Error: s.Error, Waiting: s.Waiting, Idle: s.Idle}
}

// serviceErr gives a cluster error the Service's codes.
func serviceErr(err error) error {
	var nl *cluster.NotLeaderError
	switch {
	case errors.As(err, &nl):
		msg := err.Error()
		if nl.API != "" {
			msg = "this node does not lead; the leader answers at " + nl.API
		}
		return &Error{Code: CodeUnavailable, Message: msg, Err: err}
	case errors.Is(err, cluster.ErrMaybeCommitted):
		return &Error{Code: CodeUnavailable, Message: err.Error(), Err: err}
	case errors.Is(err, engine.ErrUnknownCase):
		return &Error{Code: CodeNotFound, Field: "id", Message: err.Error(), Err: err}
	}
	return &Error{Code: CodeInternal, Message: err.Error(), Err: err}
}
