// This file implements GetHistory and Export on a validator's Connect
// API in the Byzantine mode: read from the events its own FSM keeps,
// every one of them in a block more than two thirds of the voting
// power certified, so no forwarding is needed. Entries, XES and CSV are
// those a single knhk serve and a raft node give (same namer and
// history.Started/Ended).

package server

import (
	"bytes"
	"context"
	"fmt"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/export"
)

// bftEvents folds case id's events into a state as a raft node's
// clusterEvents do; a validator runs one program.
func (a *BFTAPI) bftEvents(id string) *clusterEvents {
	return &clusterEvents{
		machine:  func() *engine.Machine { return a.fsm().MachineOf(a.hash()) },
		holder:   "validator",
		st:       &engine.State{ID: id},
		applying: true,
	}
}

func (r *bftRPC) GetHistory(_ context.Context, req *connect.Request[knhkv1.GetHistoryRequest]) (*connect.Response[knhkv1.GetHistoryResponse], error) {
	m := req.Msg
	if err := checkHistoryRequest(m); err != nil {
		return nil, err
	}
	size := pageSize(int(m.PageSize))
	evs, _, ok := r.a.fsm().CaseEvents(m.CaseId)
	if !ok {
		return nil, bftConnectErr(fmt.Errorf("%w %s", engine.ErrUnknownCase, m.CaseId))
	}
	prog, hash := r.a.caseProgram(m.CaseId)
	nm := &namer{p: &Program{Hash: hash, prog: prog}, detail: m.Detail, from: m.From}
	var hs []HistoryEntry
	var next int64
	err := r.a.bftEvents(m.CaseId).read(evs, nm.page(size, &hs, &next), nil)
	if err != nil && err != errStop {
		return nil, bftConnectErr(err)
	}
	return historyResponse(hs, next), nil
}

func (r *bftRPC) Export(_ context.Context, req *connect.Request[knhkv1.ExportRequest]) (*connect.Response[knhkv1.ExportResponse], error) {
	var b bytes.Buffer
	var ew export.Writer
	switch f := req.Msg.Format; f {
	case "xes":
		ew = export.NewXESWriter(&b)
	case "csv":
		ew = export.NewCSVWriter(&b)
	default:
		return nil, connect.NewError(connect.CodeInvalidArgument, errFormat(f))
	}
	ids := req.Msg.CaseIds
	if len(ids) == 0 {
		ids = r.a.fsm().CasesByStart()
	}
	for _, id := range ids {
		if err := r.a.traceBFT(id, ew); err != nil {
			return nil, bftConnectErr(err)
		}
	}
	if err := ew.Close(); err != nil {
		return nil, bftConnectErr(err)
	}
	return connect.NewResponse(&knhkv1.ExportResponse{Data: b.Bytes()}), nil
}

// traceBFT writes case id's events as process-mining events, as
// Service.trace does.
func (a *BFTAPI) traceBFT(id string, w export.Writer) error {
	st, _, ok := a.fsm().Case(id)
	evs, _, eok := a.fsm().CaseEvents(id)
	if !ok || !eok {
		return fmt.Errorf("%w %s", engine.ErrUnknownCase, id)
	}
	prog, hash := a.caseProgram(id)
	return traceEvents(w, id, prog, hash, st, evs, a.bftEvents(id))
}
