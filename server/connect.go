// This file implements the Connect handlers of api/knhk/v1: each
// translates its request for the Service and the answer or error back,
// and decides nothing.

package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/runtime/queue"
)

// api implements knhkv1connect.KnhkServiceHandler over a Service.
type api struct {
	knhkv1connect.UnimplementedKnhkServiceHandler
	s *Service
}

var connectCodes = map[Code]connect.Code{
	CodeInternal:           connect.CodeInternal,
	CodeInvalidArgument:    connect.CodeInvalidArgument,
	CodeNotFound:           connect.CodeNotFound,
	CodeFailedPrecondition: connect.CodeFailedPrecondition,
	CodeUnavailable:        connect.CodeUnavailable,
	CodeDeadlineExceeded:   connect.CodeDeadlineExceeded,
	CodeAlreadyExists:      connect.CodeAlreadyExists,
}

// toConnect turns a Service error into a Connect error with the same
// message; bad input carries a BadInput detail naming the field and the
// source's diagnostics.
func toConnect(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if !errors.As(err, &e) {
		return connect.NewError(connect.CodeInternal, err)
	}
	ce := connect.NewError(connectCodes[e.Code], errors.New(e.Message))
	if e.Field != "" || len(e.Diags) > 0 {
		bi := &knhkv1.BadInput{Field: e.Field, Message: e.Message, Diagnostics: diagnostics(e.Diags)}
		if d, derr := connect.NewErrorDetail(bi); derr == nil {
			ce.AddDetail(d)
		}
	}
	return ce
}

func diagnostics(ds source.Diagnostics) []*knhkv1.Diagnostic {
	var out []*knhkv1.Diagnostic
	for _, d := range ds {
		x := &knhkv1.Diagnostic{Severity: d.Severity.String(), Code: d.Code.String(), Message: d.Message}
		if d.File != nil {
			p, q := d.File.Position(d.Span.Start), d.File.Position(d.Span.End)
			x.File, x.Line, x.Column, x.EndLine, x.EndColumn = d.File.Name, int32(p.Line), int32(p.Column), int32(q.Line), int32(q.Column)
		}
		out = append(out, x)
	}
	return out
}

func summaryPB(s Summary) *knhkv1.CaseSummary {
	out := &knhkv1.CaseSummary{CaseId: s.ID, Workflow: s.Workflow, Program: s.Program, Status: s.Status, BusinessKey: s.Key,
		StartUnixNano: s.Start, ResultJson: s.Result, Error: s.Error, Waiting: s.Waiting, Idle: s.Idle}
	if r := s.ErrorAt; r != nil {
		out.ErrorAt = &knhkv1.Diagnostic{File: r.File, Line: int32(r.Line), Column: int32(r.Column), EndLine: int32(r.EndLine), EndColumn: int32(r.EndColumn),
			Severity: "error", Message: s.Error}
	}
	return out
}

func jsonArg(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

// deploySignature is the signature file a deploy carried in its
// client.SignatureHeader (as knhk run --server sends FILE.sig), nil for
// none; a single server and a cluster node read it alike.
func deploySignature(h http.Header) ([]byte, error) {
	v := h.Get("Knhk-Descriptor-Signature") // client.SignatureHeader
	if v == "" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, toConnect(errf(CodeInvalidArgument, "signature", "the deploy's signature header is not base64: %v", err))
	}
	return b, nil
}

func (a *api) Deploy(ctx context.Context, r *connect.Request[knhkv1.DeployRequest]) (*connect.Response[knhkv1.DeployResponse], error) {
	sigs, err := deploySignature(r.Header())
	if err != nil {
		return nil, err
	}
	res, err := a.s.DeploySigned(r.Msg.Name, []byte(r.Msg.Source), r.Msg.Compiled, sigs)
	if err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&knhkv1.DeployResponse{Hash: res.Program.Hash, Workflows: res.Program.Workflows, Warnings: diagnostics(res.Warnings)}), nil
}

func (a *api) ListPrograms(ctx context.Context, r *connect.Request[knhkv1.ListProgramsRequest]) (*connect.Response[knhkv1.ListProgramsResponse], error) {
	out := &knhkv1.ListProgramsResponse{}
	for _, p := range a.s.Programs() {
		out.Programs = append(out.Programs, &knhkv1.Program{Hash: p.Hash, Workflows: p.Workflows, Name: p.Name, DeployedUnixNano: p.Deployed.UnixNano()})
	}
	return connect.NewResponse(out), nil
}

func (a *api) StartCase(ctx context.Context, r *connect.Request[knhkv1.StartCaseRequest]) (*connect.Response[knhkv1.StartCaseResponse], error) {
	m := r.Msg
	if err := checkStartWait(m); err != nil {
		return nil, err
	}
	id, existing, err := a.s.Start(ctx, StartRequest{Workflow: m.Workflow, Program: m.Program, Input: jsonArg(m.InputJson), Request: m.RequestId, Key: m.BusinessKey})
	if err != nil {
		return nil, toConnect(err)
	}
	return startThenWait(ctx, m, &knhkv1.StartCaseResponse{CaseId: id, Existing: existing}, a.WaitCase), nil
}

func (a *api) SignalCase(ctx context.Context, r *connect.Request[knhkv1.SignalCaseRequest]) (*connect.Response[knhkv1.SignalCaseResponse], error) {
	sum, err := a.s.SignalOnce(ctx, r.Msg.CaseId, r.Msg.Name, jsonArg(r.Msg.PayloadJson), r.Msg.RequestId)
	if err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&knhkv1.SignalCaseResponse{Case: summaryPB(sum)}), nil
}

func (a *api) QueryCase(ctx context.Context, r *connect.Request[knhkv1.QueryCaseRequest]) (*connect.Response[knhkv1.QueryCaseResponse], error) {
	b, err := a.s.Query(ctx, r.Msg.CaseId, r.Msg.Name)
	if err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&knhkv1.QueryCaseResponse{ResultJson: string(b)}), nil
}

func (a *api) CancelCase(ctx context.Context, r *connect.Request[knhkv1.CancelCaseRequest]) (*connect.Response[knhkv1.CancelCaseResponse], error) {
	sum, err := a.s.Cancel(ctx, r.Msg.CaseId)
	if err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&knhkv1.CancelCaseResponse{Case: summaryPB(sum)}), nil
}

func (a *api) GetCase(ctx context.Context, r *connect.Request[knhkv1.GetCaseRequest]) (*connect.Response[knhkv1.GetCaseResponse], error) {
	sum, err := a.s.Get(r.Msg.CaseId)
	if err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&knhkv1.GetCaseResponse{Case: summaryPB(sum)}), nil
}

// maxWait bounds one long poll of WaitCase.
const maxWait = 60 * time.Second

func (a *api) WaitCase(ctx context.Context, r *connect.Request[knhkv1.WaitCaseRequest]) (*connect.Response[knhkv1.WaitCaseResponse], error) {
	d := time.Duration(r.Msg.TimeoutMs) * time.Millisecond
	if r.Msg.TimeoutMs < 0 {
		return nil, toConnect(errf(CodeInvalidArgument, "timeout_ms", "timeout_ms is negative (%d)", r.Msg.TimeoutMs))
	}
	if d == 0 || d > maxWait {
		d = maxWait
	}
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	sum, done, err := a.s.Wait(wctx, r.Msg.CaseId, r.Msg.OrWaiting)
	if err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&knhkv1.WaitCaseResponse{Case: summaryPB(sum), Done: done}), nil
}

func historyPB(h HistoryEntry) *knhkv1.HistoryEntry {
	return &knhkv1.HistoryEntry{Seq: h.Seq, TimeUnixNano: h.Time, Kind: h.Kind, Step: h.Step, Detail: h.Detail}
}

// historyResponse is a page of history, next the entry after it (0:
// none), as GetHistory answers it.
func historyResponse(hs []HistoryEntry, next int64) *connect.Response[knhkv1.GetHistoryResponse] {
	out := &knhkv1.GetHistoryResponse{Next: next}
	for _, h := range hs {
		out.Entries = append(out.Entries, historyPB(h))
	}
	return connect.NewResponse(out)
}

func (a *api) GetHistory(ctx context.Context, r *connect.Request[knhkv1.GetHistoryRequest]) (*connect.Response[knhkv1.GetHistoryResponse], error) {
	if r.Msg.PageSize < 0 {
		return nil, toConnect(errf(CodeInvalidArgument, "page_size", "page_size is negative (%d)", r.Msg.PageSize))
	}
	hs, next, err := a.s.History(ctx, r.Msg.CaseId, r.Msg.From, int(r.Msg.PageSize), r.Msg.Detail)
	if err != nil {
		return nil, toConnect(err)
	}
	return historyResponse(hs, next), nil
}

func (a *api) WatchHistory(ctx context.Context, r *connect.Request[knhkv1.WatchHistoryRequest], st *connect.ServerStream[knhkv1.HistoryEntry]) error {
	return toConnect(a.s.WatchHistory(ctx, r.Msg.CaseId, r.Msg.From, r.Msg.Detail, func(h HistoryEntry) error { return st.Send(historyPB(h)) }))
}

func (a *api) ListCases(ctx context.Context, r *connect.Request[knhkv1.ListCasesRequest]) (*connect.Response[knhkv1.ListCasesResponse], error) {
	m := r.Msg
	list, next, err := a.s.List(ListRequest{Workflow: m.Workflow, Status: m.Status, StartedAfter: m.StartedAfterUnixNano, StartedBefore: m.StartedBeforeUnixNano,
		KeyContains: m.KeyContains, PageSize: int(m.PageSize), PageToken: m.PageToken})
	if err != nil {
		return nil, toConnect(err)
	}
	out := &knhkv1.ListCasesResponse{NextPageToken: next}
	for _, s := range list {
		out.Cases = append(out.Cases, summaryPB(s))
	}
	return connect.NewResponse(out), nil
}

func (a *api) Export(ctx context.Context, r *connect.Request[knhkv1.ExportRequest]) (*connect.Response[knhkv1.ExportResponse], error) {
	var b bytes.Buffer
	if err := a.s.Export(ctx, r.Msg.CaseIds, r.Msg.Format, &b); err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&knhkv1.ExportResponse{Data: b.Bytes()}), nil
}

func (a *api) PollTask(ctx context.Context, r *connect.Request[knhkv1.PollTaskRequest]) (*connect.Response[knhkv1.PollTaskResponse], error) {
	if r.Msg.TimeoutMs < 0 {
		return nil, toConnect(errf(CodeInvalidArgument, "timeout_ms", "timeout_ms is negative (%d)", r.Msg.TimeoutMs))
	}
	t, ok, err := a.s.PollTask(ctx, r.Msg.Queue, r.Msg.Worker, time.Duration(r.Msg.TimeoutMs)*time.Millisecond)
	if err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&knhkv1.PollTaskResponse{Task: workerTask(t, ok)}), nil
}

// workerTask is the wire form of a delivery; nil when none came.
func workerTask(t queue.Task, ok bool) *knhkv1.WorkerTask {
	if !ok {
		return nil
	}
	w := &knhkv1.WorkerTask{Id: t.ID, Queue: t.Queue, Task: t.Task, CaseId: t.CaseID, Attempt: int32(t.Attempt),
		InputJson: string(t.Input), Token: t.Token, LeaseDeadlineUnixNano: t.LeaseDeadline.UnixNano()}
	if !t.Deadline.IsZero() {
		w.DeadlineUnixNano = t.Deadline.UnixNano()
	}
	return w
}

func (a *api) CompleteAndPollTask(ctx context.Context, r *connect.Request[knhkv1.CompleteAndPollTaskRequest]) (*connect.Response[knhkv1.CompleteAndPollTaskResponse], error) {
	c, p := r.Msg.GetComplete(), r.Msg.GetPoll()
	switch {
	case c == nil:
		return nil, toConnect(errf(CodeInvalidArgument, "complete", "name the task to complete"))
	case p == nil:
		return nil, toConnect(errf(CodeInvalidArgument, "poll", "name the queue to poll"))
	case p.TimeoutMs < 0:
		return nil, toConnect(errf(CodeInvalidArgument, "poll.timeout_ms", "timeout_ms is negative (%d)", p.TimeoutMs))
	}
	t, ok, err := a.s.CompleteAndPoll(ctx, c.Id, c.Token, []byte(c.ResultJson), p.Queue, p.Worker, time.Duration(p.TimeoutMs)*time.Millisecond)
	if err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&knhkv1.CompleteAndPollTaskResponse{Task: workerTask(t, ok)}), nil
}

func (a *api) Heartbeat(ctx context.Context, r *connect.Request[knhkv1.HeartbeatRequest]) (*connect.Response[knhkv1.HeartbeatResponse], error) {
	at, err := a.s.Heartbeat(ctx, r.Msg.Id, r.Msg.Token)
	if err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&knhkv1.HeartbeatResponse{LeaseDeadlineUnixNano: at.UnixNano()}), nil
}

func (a *api) CompleteTask(ctx context.Context, r *connect.Request[knhkv1.CompleteTaskRequest]) (*connect.Response[knhkv1.CompleteTaskResponse], error) {
	if err := a.s.CompleteTask(ctx, r.Msg.Id, r.Msg.Token, []byte(r.Msg.ResultJson)); err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&knhkv1.CompleteTaskResponse{}), nil
}

func (a *api) FailTask(ctx context.Context, r *connect.Request[knhkv1.FailTaskRequest]) (*connect.Response[knhkv1.FailTaskResponse], error) {
	if err := a.s.FailTask(ctx, r.Msg.Id, r.Msg.Token, r.Msg.Message); err != nil {
		return nil, toConnect(err)
	}
	return connect.NewResponse(&knhkv1.FailTaskResponse{}), nil
}
