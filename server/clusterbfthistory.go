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
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/export"
	"github.com/knhk/knhk/runtime/history"
	"github.com/knhk/knhk/runtime/store"
)

// foldBFT folds case id's events (the validator runs one program) into
// a state, calling fn with each event and the state before it and, when
// set, after with the state after it; once an event does not apply the
// state stays as it was, as on a single server.
func (a *BFTAPI) foldBFT(id string, evs []cluster.Event, fn func(store.Seq, *engine.State, *engine.Event) error, after func(*engine.State) error) error {
	m := a.app.FSM().MachineOf(a.hash())
	if m == nil {
		return fmt.Errorf("case %s runs a program this validator does not hold", id)
	}
	st, applying := &engine.State{ID: id}, true
	for i, e := range evs {
		ev, err := engine.DecodeEvent(e.Data)
		if err != nil {
			return fmt.Errorf("event %d of case %s: %w", i, id, err)
		}
		if err := fn(store.Seq(e.Index), st, ev); err != nil {
			return err
		}
		if applying && m.Apply(st, ev) != nil {
			applying = false
		}
		if after != nil && applying {
			if err := after(st); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *bftRPC) GetHistory(_ context.Context, req *connect.Request[knhkv1.GetHistoryRequest]) (*connect.Response[knhkv1.GetHistoryResponse], error) {
	m := req.Msg
	if m.PageSize < 0 {
		return nil, connect.NewError(connect.CodeInvalidArgument, errNegative("page_size", int64(m.PageSize)))
	}
	if m.From < 0 {
		return nil, connect.NewError(connect.CodeInvalidArgument, errNegative("from", m.From))
	}
	size := int(m.PageSize)
	if size <= 0 {
		size = 100
	}
	size = min(size, 1000)
	evs, _, ok := r.a.app.FSM().CaseEvents(m.CaseId)
	if !ok {
		return nil, bftConnectErr(fmt.Errorf("%w %s", engine.ErrUnknownCase, m.CaseId))
	}
	out := &knhkv1.GetHistoryResponse{}
	nm := &namer{p: &Program{Hash: r.a.hash(), prog: r.a.prog}, detail: m.Detail, from: m.From}
	err := r.a.foldBFT(m.CaseId, evs, func(seq store.Seq, st *engine.State, ev *engine.Event) error {
		h, i, ok := nm.next(seq, st, ev)
		if !ok {
			return nil
		}
		if len(out.Entries) == size {
			out.Next = i
			return errStop
		}
		out.Entries = append(out.Entries, historyPB(h))
		return nil
	}, nil)
	if err != nil && err != errStop {
		return nil, bftConnectErr(err)
	}
	return connect.NewResponse(out), nil
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
		ids = r.a.app.FSM().CasesByStart()
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
	st, _, ok := a.app.FSM().Case(id)
	evs, _, eok := a.app.FSM().CaseEvents(id)
	if !ok || !eok {
		return fmt.Errorf("%w %s", engine.ErrUnknownCase, id)
	}
	prog := a.prog
	wf := ""
	if int(st.Net) < len(prog.Nets) {
		wf = prog.Nets[st.Net].Name
	}
	if err := w.Begin(id, []export.Attr{{Key: "workflow", Value: wf}, {Key: "descriptor", Value: a.hash()}}); err != nil {
		return err
	}
	var at time.Time
	var next int32
	var werr error
	add := func(activity, lifecycle, resource string) {
		if werr == nil {
			werr = w.Event(export.Event{Activity: activity, Lifecycle: lifecycle, Time: at, Resource: resource})
		}
	}
	err := a.foldBFT(id, evs, func(_ store.Seq, st *engine.State, ev *engine.Event) error {
		at = time.Unix(0, ev.Time).UTC()
		history.Ended(prog, st, ev, add)
		next = st.NextInv
		return werr
	}, func(st *engine.State) error {
		history.Started(prog, st, next, add)
		return werr
	})
	if err != nil {
		return err
	}
	return werr
}
