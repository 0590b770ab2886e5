// This file implements the HTTP API of a cluster node (knhk serve
// --node): JSON over HTTP for cases and membership, answered by the
// leader; a follower forwards what only the leader answers (see
// clusterfwd.go). It stays thin over runtime/cluster.Node, as the
// Connect handlers stay thin over the Service.

package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
)

// ClusterAPI serves one node's HTTP API.
type ClusterAPI struct {
	n      *cluster.Node
	prog   *ir.Program
	mux    *http.ServeMux
	client *http.Client
	// vouch keys the vouch of a forwarded call's client address
	// (forwardvouch.go); nil without the nodes' token.
	vouch []byte
	// guard checks the bearer token (clusterauth.go); nil without one.
	guard http.Handler
	// public are the patterns outside the token check.
	public map[string]bool
	// MaxBody bounds request bodies.
	MaxBody int64
	// Sources are the source files of the node's own program by its
	// hash, for the web console (knhk serve --node sets them; programs
	// deployed through the log carry their source in the log).
	Sources map[string]map[int32]*source.File
	// Kernels, if set, runs the kernel calls of the node's queries (the
	// runner of its steps; clusterkernels.go); nil: the process's device.
	Kernels eval.KernelRunner
}

// NewClusterAPI returns the API of node n, which runs prog.
func NewClusterAPI(n *cluster.Node, prog *ir.Program) *ClusterAPI {
	a := &ClusterAPI{n: n, prog: prog, mux: http.NewServeMux(), client: &http.Client{}, MaxBody: DefaultMaxBody}
	a.mux.HandleFunc("GET "+cluster.StatusPath, a.status)
	a.mux.HandleFunc("POST /cluster/v1/members", a.leaderOnly(a.join))
	a.mux.HandleFunc("DELETE /cluster/v1/members/{id}", a.leaderOnly(a.remove))
	a.mux.HandleFunc("POST /cluster/v1/cases", a.leaderOnly(a.start))
	a.mux.HandleFunc("POST /cluster/v1/cases/{id}/signal", a.leaderOnly(a.signal))
	a.mux.HandleFunc("POST /cluster/v1/cases/{id}/cancel", a.leaderOnly(a.cancel))
	a.mux.HandleFunc("POST "+ClusterErasePath, a.leaderOnly(a.erase)) // clustererase.go
	a.mux.HandleFunc("GET /cluster/v1/cases/{id}", a.get)
	a.mux.HandleFunc("GET /cluster/v1/cases/{id}/history", a.historyJSON)
	a.mux.HandleFunc("GET /cluster/v1/cases", a.list)
	// The Connect API of a single knhk serve, answered by the leader.
	path, h := knhkv1connect.NewKnhkServiceHandler(&clusterRPC{a: a}, apiCompression())
	a.mux.Handle(path, a.connectRoute(h))
	return a
}

func (a *ClusterAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != knhkv1connect.KnhkServiceWorkTasksProcedure {
		// A worker's stream lives as long as the worker: each of its
		// messages is bounded instead (workTasksRoute).
		r.Body = http.MaxBytesReader(w, r.Body, a.MaxBody)
	}
	a.route(w, r)
}

// clusterError is the body of every failed call.
type clusterError struct {
	Error string `json:"error"`
	// Leader names the leader when the node is not it and did not
	// forward.
	Leader    string `json:"leader,omitempty"`
	LeaderAPI string `json:"leader_api,omitempty"`
	// Retry says the call may be retried with the same request id.
	Retry bool `json:"retry,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// fail answers err with the status that says whose fault it is.
func fail(w http.ResponseWriter, err error) {
	body := clusterError{Error: err.Error()}
	code := http.StatusBadRequest
	var nl *cluster.NotLeaderError
	switch {
	case errors.As(err, &nl):
		code, body.Leader, body.LeaderAPI, body.Retry = http.StatusServiceUnavailable, nl.ID, nl.API, true
	case errors.Is(err, cluster.ErrMaybeCommitted):
		code, body.Retry = http.StatusServiceUnavailable, true
	case errors.Is(err, engine.ErrUnknownCase):
		code = http.StatusNotFound
	case errors.Is(err, cluster.ErrCaseExists), errors.Is(err, cluster.ErrIDInUse), errors.Is(err, cluster.ErrProgram):
		code = http.StatusConflict
	case errors.Is(err, cluster.ErrNotErasable):
		code = http.StatusPreconditionFailed
	case errors.Is(err, cluster.ErrNotAdmitted):
		// A licence limit or a tenant's cap: the request is sound,
		// the caller's entitlement does not allow it now.
		code = http.StatusForbidden
	}
	writeJSON(w, code, body)
}

// decode reads a JSON body into v.
func decode(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return fmt.Errorf("reading the request: %w", err)
	}
	if len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("bad request body: %v", err)
	}
	return nil
}

func (a *ClusterAPI) status(w http.ResponseWriter, r *http.Request) {
	st, err := a.n.Status()
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// ClusterJoinRequest is the body of POST /cluster/v1/members.
type ClusterJoinRequest struct {
	cluster.Member
	// Program is the hash of the program the node runs.
	Program string `json:"program"`
}

func (a *ClusterAPI) join(w http.ResponseWriter, r *http.Request) {
	var j ClusterJoinRequest
	if err := decode(r, &j); err != nil {
		fail(w, err)
		return
	}
	if err := a.n.Join(r.Context(), j.Member, j.Program); err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"joined": j.ID})
}

func (a *ClusterAPI) remove(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := a.n.Remove(r.Context(), id); err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"removed": id})
}
