// This file implements the case calls of the cluster API: start, signal,
// cancel, get and list, with inputs and results as JSON of the
// program's types.

package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"connectrpc.com/connect"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/caseio"
	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/engine"
)

// ClusterStartRequest is the body of POST /cluster/v1/cases.
type ClusterStartRequest struct {
	ID       string          `json:"id"`
	Workflow string          `json:"workflow"`
	Input    json.RawMessage `json:"input,omitempty"`
	// RequestID makes a retry safe: the cluster answers a request id it
	// has applied with the first outcome.
	RequestID string `json:"request_id,omitempty"`
	// Program is the hash of the program to start in; empty: the latest
	// deployed one that declares the workflow.
	Program string `json:"program,omitempty"`
	// Key is the case's business key: the cluster binds it to the case
	// for good, and refuses (409) a start of another case with it.
	Key string `json:"key,omitempty"`
}

// ClusterSignalRequest is the body of POST /cluster/v1/cases/{id}/signal.
type ClusterSignalRequest struct {
	Name      string          `json:"name"`
	Payload   json.RawMessage `json:"payload,omitempty"`
	RequestID string          `json:"request_id,omitempty"`
}

// ClusterCase is a case as GET /cluster/v1/cases/{id} shows it.
type ClusterCase struct {
	ID       string          `json:"id"`
	Workflow string          `json:"workflow"`
	Status   string          `json:"status"`
	Events   uint64          `json:"events"`
	Result   json.RawMessage `json:"result,omitempty"`
	Error    string          `json:"error,omitempty"`
	Waits    []string        `json:"waits,omitempty"`
	Node     string          `json:"node"`
	// Started is when the case started (RFC 3339).
	Started string `json:"started,omitempty"`
	// StaleMS and Lag: for a stale read on a follower, how long since it
	// heard from the leader and how many committed entries it had not
	// applied.
	StaleMS int64  `json:"stale_ms,omitempty"`
	Lag     uint64 `json:"lag,omitempty"`
}

func (a *ClusterAPI) start(w http.ResponseWriter, r *http.Request) {
	var req ClusterStartRequest
	if err := decode(r, &req); err != nil {
		fail(w, err)
		return
	}
	if req.ID == "" || req.Workflow == "" {
		fail(w, fmt.Errorf("a start needs an id and a workflow"))
		return
	}
	hash, prog, err := a.startProgram(req.Program, req.Workflow)
	if err != nil {
		var ce *connect.Error
		if errors.As(err, &ce) {
			err = errors.New(ce.Message())
		}
		fail(w, err)
		return
	}
	net := prog.Net(req.Workflow)
	var in []byte
	if len(req.Input) > 0 {
		in = req.Input
	}
	vals, err := caseio.DecodeInput(prog, net, in)
	if err != nil {
		fail(w, fmt.Errorf("bad input for %s: %w", req.Workflow, err))
		return
	}
	if _, err := a.n.StartIn(r.Context(), hash, req.RequestID, req.Key, req.ID, req.Workflow, engine.Boxed(vals)); err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"started": req.ID})
}

func (a *ClusterAPI) signal(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req ClusterSignalRequest
	if err := decode(r, &req); err != nil {
		fail(w, err)
		return
	}
	v, err := a.n.Get(r.Context(), id, cluster.Linearizable)
	if err != nil {
		fail(w, err)
		return
	}
	prog := a.progOf(id)
	args, err := clusterSignalArgs(prog, prog.Nets[v.State.Net], req.Name, req.Payload)
	if err != nil {
		fail(w, err)
		return
	}
	if err := a.n.Signal(r.Context(), req.RequestID, id, req.Name, args); err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"signalled": id})
}

func (a *ClusterAPI) cancel(w http.ResponseWriter, r *http.Request) {
	caseCall(w, r, "cancelled", a.n.Cancel)
}

// caseCall answers a POST to case {id} whose body may carry a request
// id: do(ctx, request id, case id), then {"<done>": id}.
func caseCall(w http.ResponseWriter, r *http.Request, done string, do func(context.Context, string, string) error) {
	id := r.PathValue("id")
	var req struct {
		RequestID string `json:"request_id,omitempty"`
	}
	if err := decode(r, &req); err != nil {
		fail(w, err)
		return
	}
	if err := do(r.Context(), req.RequestID, id); err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{done: id})
}

// get reads a case: linearizable on the leader (forwarded there by a
// follower), or the node's own copy with ?consistency=stale.
func (a *ClusterAPI) get(w http.ResponseWriter, r *http.Request) {
	c := cluster.Linearizable
	switch q := r.URL.Query().Get("consistency"); q {
	case "", "linearizable":
	case "stale":
		c = cluster.Stale
	default:
		fail(w, fmt.Errorf("consistency %q: want linearizable or stale", q))
		return
	}
	if c == cluster.Linearizable && !a.n.IsLeader() {
		a.forward(w, r)
		return
	}
	v, err := a.n.Get(r.Context(), r.PathValue("id"), c)
	if err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, a.view(r.PathValue("id"), v))
}

func (a *ClusterAPI) view(id string, v *cluster.View) *ClusterCase {
	return caseView(a.progOf(id), id, v)
}

// caseView shows case id of prog as a read saw it.
func caseView(prog *ir.Program, id string, v *cluster.View) *ClusterCase {
	net := prog.Nets[v.State.Net]
	cv := &ClusterCase{ID: id, Workflow: net.Name, Status: v.State.Status.String(), Events: v.Events, Node: v.Node,
		StaleMS: v.Staleness.Milliseconds(), Lag: v.Lag, Error: v.State.Error}
	if v.Started != 0 {
		cv.Started = time.Unix(0, v.Started).UTC().Format(time.RFC3339Nano)
	}
	if v.State.Done() {
		if b, err := caseio.Result(prog, net, v.State.Result); err == nil && b != nil {
			cv.Result = b
		}
	} else {
		cv.Waits = caseio.Waits(prog, v.State)
	}
	return cv
}

// list lists the cases of this node's copy (a stale read).
func (a *ClusterAPI) list(w http.ResponseWriter, r *http.Request) {
	out := []*ClusterCase{}
	for _, id := range a.n.FSM().Cases(false) {
		v, err := a.n.Get(r.Context(), id, cluster.Stale)
		if err != nil {
			continue
		}
		out = append(out, a.view(id, v))
	}
	writeJSON(w, http.StatusOK, out)
}
