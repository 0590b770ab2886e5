// This file implements the Connect API's history and export calls on a
// cluster node, and the header that asks for this node's own copy.

package server

import (
	"bytes"
	"context"
	"net/http"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
	"github.com/knhk/knhk/runtime/cluster"
)

// ConsistencyHeader, set to "stale" on a Connect call that reads (GetCase,
// QueryCase, ListCases, GetHistory, WatchHistory, Export), makes the node
// that receives it answer from its own copy, which may lag the leader's,
// instead of forwarding to the leader: the explicit stale option of the
// cluster's reads. Writes ignore it.
const ConsistencyHeader = "Knhk-Consistency"

// staleReads are the Connect procedures a follower may answer itself
// when asked for a stale read.
var staleReads = map[string]bool{"GetCase": true, "QueryCase": true, "ListCases": true, "GetHistory": true, "WatchHistory": true, "Export": true}

type staleKey struct{}

// connectRoute serves the Connect API: on the leader, or on this node
// for a read that asks for stale consistency, else forwarded.
func (a *ClusterAPI) connectRoute(h http.Handler) http.HandlerFunc {
	lead := a.leaderOnly(h.ServeHTTP)
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == knhkv1connect.KnhkServiceWorkTasksProcedure {
			a.workTasksRoute(w, r) // clustertasks_stream.go
			return
		}
		if r.Header.Get(ConsistencyHeader) == "stale" && staleReads[procedure(r.URL.Path)] {
			h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), staleKey{}, true)))
			return
		}
		lead(w, r)
	}
}

// procedure is the method name of a Connect path /pkg.Service/Method.
func procedure(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '/' {
			return path[i+1:]
		}
	}
	return path
}

// consistency is what a read on ctx asked for.
func consistency(ctx context.Context) cluster.Consistency {
	if stale, _ := ctx.Value(staleKey{}).(bool); stale {
		return cluster.Stale
	}
	return cluster.Linearizable
}

// checkHistoryRequest refuses m's negative page_size or from, as a raft
// node's and a BFT validator's GetHistory do.
func checkHistoryRequest(m *knhkv1.GetHistoryRequest) error {
	if m.PageSize < 0 {
		return connect.NewError(connect.CodeInvalidArgument, errNegative("page_size", int64(m.PageSize)))
	}
	if m.From < 0 {
		return connect.NewError(connect.CodeInvalidArgument, errNegative("from", m.From))
	}
	return nil
}

func (r *clusterRPC) GetHistory(ctx context.Context, req *connect.Request[knhkv1.GetHistoryRequest]) (*connect.Response[knhkv1.GetHistoryResponse], error) {
	if err := checkHistoryRequest(req.Msg); err != nil {
		return nil, err
	}
	hs, next, err := r.a.history(ctx, req.Msg.CaseId, req.Msg.From, int(req.Msg.PageSize), req.Msg.Detail, consistency(ctx))
	if err != nil {
		return nil, connectErr(err)
	}
	return historyResponse(hs, next), nil
}

func (r *clusterRPC) WatchHistory(ctx context.Context, req *connect.Request[knhkv1.WatchHistoryRequest], st *connect.ServerStream[knhkv1.HistoryEntry]) error {
	if req.Msg.From < 0 {
		return connect.NewError(connect.CodeInvalidArgument, errNegative("from", req.Msg.From))
	}
	err := r.a.watchHistory(ctx, req.Msg.CaseId, req.Msg.From, req.Msg.Detail, consistency(ctx), func(h HistoryEntry) error { return st.Send(historyPB(h)) })
	if err != nil {
		return connectErr(err)
	}
	return nil
}

func (r *clusterRPC) Export(ctx context.Context, req *connect.Request[knhkv1.ExportRequest]) (*connect.Response[knhkv1.ExportResponse], error) {
	if f := req.Msg.Format; f != "xes" && f != "csv" {
		return nil, connect.NewError(connect.CodeInvalidArgument, errFormat(f))
	}
	var b bytes.Buffer
	if err := r.a.export(ctx, req.Msg.CaseIds, req.Msg.Format, consistency(ctx), &b); err != nil {
		return nil, connectErr(err)
	}
	return connect.NewResponse(&knhkv1.ExportResponse{Data: b.Bytes()}), nil
}
