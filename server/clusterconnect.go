// This file implements the Connect API of api/knhk/v1 on a cluster
// node, for the calls a cluster answers: the CLI's --server commands
// (run, signal, resume, query, cases) work against a cluster as they do
// against a single knhk serve. Calls are answered by the leader; a
// follower forwards them (see clusterfwd.go).

package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/caseio"
	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/engine"
)

// clusterRPC answers the Connect API over a cluster node. The calls it
// does not implement (history, export, queue workers) answer
// Unimplemented.
type clusterRPC struct {
	knhkv1connect.UnimplementedKnhkServiceHandler
	a *ClusterAPI
}

// connectErr maps the cluster's errors to Connect codes.
func connectErr(err error) error {
	code := connect.CodeInvalidArgument
	switch {
	case errors.Is(err, cluster.ErrNotLeader), errors.Is(err, cluster.ErrMaybeCommitted):
		code = connect.CodeUnavailable
	case errors.Is(err, engine.ErrUnknownCase):
		code = connect.CodeNotFound
	case errors.Is(err, cluster.ErrCaseExists):
		code = connect.CodeAlreadyExists
	case errors.Is(err, cluster.ErrProgram), errors.Is(err, cluster.ErrNotAdmitted):
		code = connect.CodeFailedPrecondition
	case errors.Is(err, cluster.ErrReplay):
		code = connect.CodeUnauthenticated // as the front's replay guard answers
	}
	return connect.NewError(code, err)
}

// StartCase starts a case named after its request id (so that a retry
// names the same case), or a random one.
func (r *clusterRPC) StartCase(ctx context.Context, req *connect.Request[knhkv1.StartCaseRequest]) (*connect.Response[knhkv1.StartCaseResponse], error) {
	m := req.Msg
	if err := checkStartWait(m); err != nil {
		return nil, err
	}
	if len(m.RequestId) > maxKey || len(m.BusinessKey) > maxKey {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("a request id or business key is longer than %d bytes", maxKey))
	}
	hash, prog, err := r.a.startProgram(m.Program, m.Workflow)
	if err != nil {
		return nil, err
	}
	net := prog.Net(m.Workflow)
	var in []byte
	if m.InputJson != "" {
		in = []byte(m.InputJson)
	}
	vals, err := caseio.DecodeInput(prog, net, in)
	if err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("bad input for %s: %w", m.Workflow, err))
	}
	// A business key names the case for good, so a retried start with
	// the key names the same case whatever its request id.
	id := caseIDFor(m.RequestId)
	if m.BusinessKey != "" {
		id = caseIDFor("key\x00" + m.BusinessKey)
	}
	id, err = r.a.n.StartIn(ctx, hash, m.RequestId, m.BusinessKey, id, m.Workflow, engine.Boxed(vals))
	existing := false
	if errors.Is(err, cluster.ErrCaseExists) && (m.RequestId != "" || m.BusinessKey != "") {
		err, existing = nil, true
	}
	if err != nil {
		return nil, connectErr(err)
	}
	return startThenWait(ctx, m, &knhkv1.StartCaseResponse{CaseId: id, Existing: existing}, r.WaitCase), nil
}

func caseIDFor(reqID string) string {
	if reqID == "" {
		var b [8]byte
		rand.Read(b[:])
		return hex.EncodeToString(b[:])
	}
	sum := sha256.Sum256([]byte(reqID))
	return hex.EncodeToString(sum[:8])
}

func (r *clusterRPC) SignalCase(ctx context.Context, req *connect.Request[knhkv1.SignalCaseRequest]) (*connect.Response[knhkv1.SignalCaseResponse], error) {
	m := req.Msg
	v, err := r.a.n.Get(ctx, m.CaseId, consistency(ctx))
	if err != nil {
		return nil, connectErr(err)
	}
	prog := r.a.progOf(m.CaseId)
	args, err := clusterSignalArgs(prog, prog.Nets[v.State.Net], m.Name, []byte(m.PayloadJson))
	if err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	}
	if err := r.a.n.Signal(ctx, m.RequestId, m.CaseId, m.Name, args); err != nil {
		return nil, connectErr(err)
	}
	s, err := r.summary(ctx, m.CaseId)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&knhkv1.SignalCaseResponse{Case: s}), nil
}

func (r *clusterRPC) CancelCase(ctx context.Context, req *connect.Request[knhkv1.CancelCaseRequest]) (*connect.Response[knhkv1.CancelCaseResponse], error) {
	if err := r.a.n.Cancel(ctx, "", req.Msg.CaseId); err != nil {
		return nil, connectErr(err)
	}
	return connect.NewResponse(&knhkv1.CancelCaseResponse{}), nil
}

// summary reads case id on the leader as a CaseSummary.
func (r *clusterRPC) summary(ctx context.Context, id string) (*knhkv1.CaseSummary, error) {
	v, err := r.a.n.Get(ctx, id, consistency(ctx))
	if err != nil {
		return nil, connectErr(err)
	}
	return r.toSummary(id, v.State), nil
}

func (r *clusterRPC) toSummary(id string, st *engine.State) *knhkv1.CaseSummary {
	s := caseSummary(r.a.progOf(id), r.a.caseHash(id), id, st, r.a.n.FSM().Started(id))
	s.BusinessKey = r.a.n.FSM().Key(id)
	return s
}

// caseSummary is case id's replicated state st as a CaseSummary: a raft
// node and a BFT validator describe a case through it.
func caseSummary(p *ir.Program, hash, id string, st *engine.State, started int64) *knhkv1.CaseSummary {
	s := &knhkv1.CaseSummary{CaseId: id, Program: hash, Status: st.Status.String(), StartUnixNano: started}
	if int(st.Net) < len(p.Nets) {
		s.Workflow = p.Nets[st.Net].Name
	}
	switch st.Status {
	case engine.Completed:
		if b, err := caseio.Result(p, p.Nets[st.Net], st.Result); err == nil {
			s.ResultJson = string(b)
		}
	case engine.Failed, engine.Failing, engine.CompFailed:
		s.Error = "case " + id + " failed: " + st.Error
	case engine.Running:
		s.Waiting = caseio.Waits(p, st)
		s.Idle = len(s.Waiting) > 0 && len(st.Invs) == 0
	}
	return s
}

func (r *clusterRPC) GetCase(ctx context.Context, req *connect.Request[knhkv1.GetCaseRequest]) (*connect.Response[knhkv1.GetCaseResponse], error) {
	s, err := r.summary(ctx, req.Msg.CaseId)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&knhkv1.GetCaseResponse{Case: s}), nil
}

// WaitCase polls the leader's copy until the case ends (or, with
// or_waiting, is idle) or the timeout passes.
func (r *clusterRPC) WaitCase(ctx context.Context, req *connect.Request[knhkv1.WaitCaseRequest]) (*connect.Response[knhkv1.WaitCaseResponse], error) {
	return waitCase(ctx, req.Msg, func() (*knhkv1.CaseSummary, error) { return r.summary(ctx, req.Msg.CaseId) })
}

// waitCase polls summary until the case ends (or, with or_waiting, is
// idle) or m's timeout (at most a minute) passes.
func waitCase(ctx context.Context, m *knhkv1.WaitCaseRequest, summary func() (*knhkv1.CaseSummary, error)) (*connect.Response[knhkv1.WaitCaseResponse], error) {
	timeout := time.Duration(m.TimeoutMs) * time.Millisecond
	if timeout <= 0 || timeout > time.Minute {
		timeout = time.Minute
	}
	deadline := time.Now().Add(timeout)
	for {
		s, err := summary()
		if err != nil {
			return nil, err
		}
		done := s.Status == "completed" || s.Status == "failed" || s.Status == "cancelled" || s.Status == "compensation-failed"
		if done || m.OrWaiting && s.Idle || time.Now().After(deadline) {
			return connect.NewResponse(&knhkv1.WaitCaseResponse{Case: s, Done: done}), nil
		}
		select {
		case <-ctx.Done():
			return nil, connect.NewError(connect.CodeDeadlineExceeded, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (r *clusterRPC) QueryCase(ctx context.Context, req *connect.Request[knhkv1.QueryCaseRequest]) (*connect.Response[knhkv1.QueryCaseResponse], error) {
	v, err := r.a.n.Get(ctx, req.Msg.CaseId, consistency(ctx))
	if err != nil {
		return nil, connectErr(err)
	}
	prog := r.a.progOf(req.Msg.CaseId)
	out, err := queryCase(ctx, queryEvaluator(r.a.Kernels), prog, v.State, req.Msg.CaseId, req.Msg.Name)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&knhkv1.QueryCaseResponse{ResultJson: out}), nil
}

// queryCase evaluates the query name of case id (every query when name
// is empty, as one JSON object) over its replicated state st, with the
// single server's errors as Connect errors, its kernel calls on ev: a
// raft node and a BFT validator answer QueryCase through it.
func queryCase(ctx context.Context, ev engine.Evaluator, prog *ir.Program, st *engine.State, id, name string) (string, error) {
	net := prog.Nets[st.Net]
	qs := net.Queries
	if name != "" {
		qs = nil
		var names []string
		for _, q := range net.Queries {
			if q != nil && q.Name == name {
				qs = append(qs, q)
			}
			if q != nil {
				names = append(names, q.Name)
			}
		}
		if len(qs) == 0 {
			return "", connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("workflow %s has no query %s (it declares: %v)", net.Name, name, names))
		}
	}
	var out bytes.Buffer
	if name == "" {
		out.WriteByte('{')
	}
	for i, q := range qs {
		b, err := caseio.QueryWith(ctx, ev, prog, st, q)
		if err != nil {
			return "", connect.NewError(connect.CodeFailedPrecondition, fmt.Errorf("query %s of case %s: %v", q.Name, id, err))
		}
		if name == "" {
			if i > 0 {
				out.WriteByte(',')
			}
			out.WriteString(strconv.Quote(q.Name) + ":")
		}
		out.Write(b)
	}
	if name == "" {
		out.WriteByte('}')
	}
	return out.String(), nil
}

// ListCases lists the leader's copy of the cases (this node's, with a
// stale read) in start order, filtered and paged as a single server's
// list is: by workflow, status, start time and business-key text.
func (r *clusterRPC) ListCases(ctx context.Context, req *connect.Request[knhkv1.ListCasesRequest]) (*connect.Response[knhkv1.ListCasesResponse], error) {
	m := req.Msg
	if m.Status != "" && !statuses[m.Status] {
		return nil, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("unknown status %q (want running, completed, failing, failed, cancelled or compensation-failed)", m.Status))
	}
	from, size, err := listPage(m)
	if err != nil {
		return nil, err
	}
	if consistency(ctx) == cluster.Linearizable {
		if err := r.a.n.VerifyLeader(); err != nil {
			return nil, connectErr(err)
		}
	} else if err := r.a.n.StaleReady(ctx); err != nil {
		return nil, connectErr(err)
	}
	fsm := r.a.n.FSM()
	out := &knhkv1.ListCasesResponse{}
	ids := fsm.CasesByStart()
	for i := from; i < len(ids); i++ {
		id := ids[i]
		st, _, ok := fsm.Case(id)
		if !ok {
			continue
		}
		s := r.toSummary(id, st)
		if !listMatch(m, s) || m.KeyContains != "" && !strings.Contains(s.BusinessKey, m.KeyContains) {
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

// listPage reads m's page token and size (100 unless given, at most
// 1000) as a raft node's and a BFT validator's ListCases page them.
func listPage(m *knhkv1.ListCasesRequest) (from, size int, err error) {
	if m.PageToken != "" {
		n, err := strconv.Atoi(m.PageToken)
		if err != nil || n < 0 {
			return 0, 0, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("bad page token %q", m.PageToken))
		}
		from = n
	}
	return from, pageSize(int(m.PageSize)), nil
}

// listMatch reports whether s passes m's workflow, status and start-time
// filters.
func listMatch(m *knhkv1.ListCasesRequest, s *knhkv1.CaseSummary) bool {
	return (m.Workflow == "" || s.Workflow == m.Workflow) && (m.Status == "" || s.Status == m.Status) &&
		(m.StartedAfterUnixNano == 0 || s.StartUnixNano >= m.StartedAfterUnixNano) &&
		(m.StartedBeforeUnixNano == 0 || s.StartUnixNano < m.StartedBeforeUnixNano)
}
