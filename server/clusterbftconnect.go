// This file implements the Connect API of api/knhk/v1 on a validator of
// the Byzantine mode, for the calls of the CLI's --server commands (run,
// signal, resume, query, cases): every validator answers reads from the
// blocks it applied; starts, signals and cancels run on the driver, and
// a validator that does not drive forwards them to the driver's API.

package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
	"github.com/knhk/knhk/runtime/caseio"
	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/cluster/bft"
	"github.com/knhk/knhk/runtime/engine"
)

// bftRPC answers the Connect API over a validator. The calls it does
// not implement (watching a history, queue workers) answer
// Unimplemented.
type bftRPC struct {
	knhkv1connect.UnimplementedKnhkServiceHandler
	a *BFTAPI
}

// bftWrites are the procedures that run on the driver.
var bftWrites = map[string]bool{
	// A deploy of a program the chain does not hold; the validators'
	// own is answered at once (clusterbftdeploy.go).
	knhkv1connect.KnhkServiceDeployProcedure:     true,
	knhkv1connect.KnhkServiceStartCaseProcedure:  true,
	knhkv1connect.KnhkServiceSignalCaseProcedure: true,
	knhkv1connect.KnhkServiceCancelCaseProcedure: true,
}

// connectRoute forwards a write to the driver when this validator does
// not drive; everything else is answered here.
func (a *BFTAPI) connectRoute(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if bftWrites[r.URL.Path] && (r.URL.Path != knhkv1connect.KnhkServiceDeployProcedure || a.app.TakesDeploys()) {
			if a.Driver() == nil && r.Header.Get(ForwardedByHeader) == "" {
				a.forward(w, r)
				return
			}
			w = a.stamped(w)
		}
		h.ServeHTTP(w, r)
	})
}

// bftConnectErr maps the validator's errors to Connect codes.
func bftConnectErr(err error) error {
	code := connect.CodeInvalidArgument
	switch {
	case errors.Is(err, bft.ErrDeposed), errors.Is(err, errNoDriver):
		code = connect.CodeUnavailable
	case errors.Is(err, engine.ErrUnknownCase):
		code = connect.CodeNotFound
	case errors.Is(err, cluster.ErrProgram):
		code = connect.CodeFailedPrecondition
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		code = connect.CodeDeadlineExceeded
	}
	return connect.NewError(code, err)
}

// driver returns the driver, or the error a write answers on a
// validator that does not drive (a forwarded call that arrived after
// the lease moved on).
func (r *bftRPC) driver() (*bft.Driver, error) {
	if d := r.a.Driver(); d != nil {
		return d, nil
	}
	return nil, bftConnectErr(fmt.Errorf("%w: validator %s does not drive (lease term %d)", errNoDriver, r.a.name, r.a.app.Lease().Term))
}

func (r *bftRPC) workflows() []string { return workflowsOf(r.a.prog) }

func (r *bftRPC) ListPrograms(context.Context, *connect.Request[knhkv1.ListProgramsRequest]) (*connect.Response[knhkv1.ListProgramsResponse], error) {
	out := []*knhkv1.Program{{Hash: r.a.hash(), Workflows: r.workflows()}}
	for _, d := range r.a.fsm().Deployed() {
		out = append(out, &knhkv1.Program{Hash: d.Hash, Workflows: workflowsOf(d.Program)})
	}
	return connect.NewResponse(&knhkv1.ListProgramsResponse{Programs: out}), nil
}

// StartCase starts a case named after its request id (so that a retry
// names the same case and answers it as existing), or a random one.
func (r *bftRPC) StartCase(ctx context.Context, req *connect.Request[knhkv1.StartCaseRequest]) (*connect.Response[knhkv1.StartCaseResponse], error) {
	m := req.Msg
	if err := checkStartWait(m); err != nil {
		return nil, err
	}
	switch {
	case len(m.RequestId) > maxKey:
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("a request id is longer than %d bytes", maxKey))
	case m.BusinessKey != "":
		return nil, connect.NewError(connect.CodeUnimplemented, fmt.Errorf("business keys are not kept in the Byzantine mode; start the case without one"))
	}
	prog, ok := r.a.programOf(m.Program)
	if !ok {
		return nil, connect.NewError(connect.CodeFailedPrecondition, fmt.Errorf("%w: the chain holds no program %.12s (the validators run %.12s; knhk run --server deploys one)", cluster.ErrProgram, m.Program, r.a.hash()))
	}
	net := prog.Net(m.Workflow)
	if net == nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("the program has no workflow %s", m.Workflow))
	}
	var in []byte
	if m.InputJson != "" {
		in = []byte(m.InputJson)
	}
	vals, err := caseio.DecodeInput(prog, net, in)
	if err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("bad input for %s: %w", m.Workflow, err))
	}
	d, err := r.driver()
	if err != nil {
		return nil, err
	}
	id := caseIDFor(m.RequestId)
	if m.RequestId != "" && r.a.fsm().Events(id) > 0 {
		return startThenWait(ctx, m, &knhkv1.StartCaseResponse{CaseId: id, Existing: true}, r.WaitCase), nil
	}
	if err := d.StartProgram(ctx, m.Program, id, m.Workflow, engine.Boxed(vals)); err != nil {
		return nil, bftConnectErr(err)
	}
	return startThenWait(ctx, m, &knhkv1.StartCaseResponse{CaseId: id}, r.WaitCase), nil
}

func (r *bftRPC) SignalCase(ctx context.Context, req *connect.Request[knhkv1.SignalCaseRequest]) (*connect.Response[knhkv1.SignalCaseResponse], error) {
	m := req.Msg
	if len(m.RequestId) > maxKey {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("a request id is longer than %d bytes", maxKey))
	}
	st, _, ok := r.a.fsm().Case(m.CaseId)
	if !ok {
		return nil, bftConnectErr(fmt.Errorf("%w %s", engine.ErrUnknownCase, m.CaseId))
	}
	prog, _ := r.a.caseProgram(m.CaseId)
	args, err := clusterSignalArgs(prog, prog.Nets[st.Net], m.Name, []byte(m.PayloadJson))
	if err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	}
	d, err := r.driver()
	if err != nil {
		return nil, err
	}
	if err := d.Signal(ctx, m.RequestId, m.CaseId, m.Name, args); err != nil {
		return nil, bftConnectErr(err)
	}
	s, err := r.summary(m.CaseId)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&knhkv1.SignalCaseResponse{Case: s}), nil
}

func (r *bftRPC) CancelCase(ctx context.Context, req *connect.Request[knhkv1.CancelCaseRequest]) (*connect.Response[knhkv1.CancelCaseResponse], error) {
	d, err := r.driver()
	if err != nil {
		return nil, err
	}
	if err := d.Cancel(ctx, req.Msg.CaseId); err != nil {
		return nil, bftConnectErr(err)
	}
	return connect.NewResponse(&knhkv1.CancelCaseResponse{}), nil
}

// summary reads case id from this validator's blocks.
func (r *bftRPC) summary(id string) (*knhkv1.CaseSummary, error) {
	st, _, ok := r.a.fsm().Case(id)
	if !ok {
		return nil, bftConnectErr(fmt.Errorf("%w %s", engine.ErrUnknownCase, id))
	}
	prog, hash := r.a.caseProgram(id)
	return caseSummary(prog, hash, id, st, r.a.fsm().Started(id)), nil
}

func (r *bftRPC) GetCase(ctx context.Context, req *connect.Request[knhkv1.GetCaseRequest]) (*connect.Response[knhkv1.GetCaseResponse], error) {
	s, err := r.summary(req.Msg.CaseId)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&knhkv1.GetCaseResponse{Case: s}), nil
}

// WaitCase polls this validator's copy until the case ends (or, with
// or_waiting, is idle) or the timeout passes.
func (r *bftRPC) WaitCase(ctx context.Context, req *connect.Request[knhkv1.WaitCaseRequest]) (*connect.Response[knhkv1.WaitCaseResponse], error) {
	return waitCase(ctx, req.Msg, func() (*knhkv1.CaseSummary, error) { return r.summary(req.Msg.CaseId) })
}

func (r *bftRPC) QueryCase(ctx context.Context, req *connect.Request[knhkv1.QueryCaseRequest]) (*connect.Response[knhkv1.QueryCaseResponse], error) {
	st, _, ok := r.a.fsm().Case(req.Msg.CaseId)
	if !ok {
		return nil, bftConnectErr(fmt.Errorf("%w %s", engine.ErrUnknownCase, req.Msg.CaseId))
	}
	prog, _ := r.a.caseProgram(req.Msg.CaseId)
	out, err := queryCase(ctx, queryEvaluator(r.a.Kernels), prog, st, req.Msg.CaseId, req.Msg.Name)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&knhkv1.QueryCaseResponse{ResultJson: out}), nil
}

// ListCases lists this validator's cases by id, filtered and paged as a
// single server's list is: by workflow, status and start time.
func (r *bftRPC) ListCases(ctx context.Context, req *connect.Request[knhkv1.ListCasesRequest]) (*connect.Response[knhkv1.ListCasesResponse], error) {
	m := req.Msg
	if m.Status != "" && !statuses[m.Status] {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("unknown status %q (want running, completed, failing, failed, cancelled or compensation-failed)", m.Status))
	}
	if m.KeyContains != "" {
		return nil, connect.NewError(connect.CodeUnimplemented, fmt.Errorf("business keys are not kept in the Byzantine mode"))
	}
	from, size, err := listPage(m)
	if err != nil {
		return nil, err
	}
	out := &knhkv1.ListCasesResponse{}
	ids := r.a.fsm().Cases(false)
	for i := from; i < len(ids); i++ {
		s, err := r.summary(ids[i])
		if err != nil {
			continue
		}
		if !listMatch(m, s) {
			continue
		}
		if len(out.Cases) == size {
			out.NextPageToken = strconv.Itoa(i)
			break
		}
		out.Cases = append(out.Cases, s)
	}
	return connect.NewResponse(out), nil
}
