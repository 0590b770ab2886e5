// This file implements the HTTP API of a validator in the Byzantine
// mode (knhk serve --bft): the paths of the cluster API, so that knhk
// cluster status, start, signal, get and cases work on both modes.
// Every validator answers reads from its own committed state; only the
// validator started with --drive takes writes.

package server

import (
	"fmt"
	"net/http"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/caseio"
	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/cluster/bft"
	"github.com/knhk/knhk/runtime/engine"
)

// BFTAPI serves one validator's HTTP API.
type BFTAPI struct {
	name   string
	app    *bft.App
	d      *bft.Driver // nil unless the validator drives
	height func() int64
	prog   *ir.Program
	mux    *http.ServeMux
	// MaxBody bounds request bodies.
	MaxBody int64
}

// NewBFTAPI returns the API of validator name; d is nil for a
// validator that does not drive; height reports its latest block.
func NewBFTAPI(name string, app *bft.App, d *bft.Driver, height func() int64, prog *ir.Program) *BFTAPI {
	a := &BFTAPI{name: name, app: app, d: d, height: height, prog: prog, mux: http.NewServeMux(), MaxBody: DefaultMaxBody}
	a.mux.HandleFunc("GET "+cluster.StatusPath, a.status)
	a.mux.HandleFunc("POST /cluster/v1/cases", a.start)
	a.mux.HandleFunc("POST /cluster/v1/cases/{id}/signal", a.signal)
	a.mux.HandleFunc("GET /cluster/v1/cases/{id}", a.get)
	a.mux.HandleFunc("GET /cluster/v1/cases", a.list)
	return a
}

func (a *BFTAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, a.MaxBody)
	a.mux.ServeHTTP(w, r)
}

func (a *BFTAPI) status(w http.ResponseWriter, r *http.Request) {
	h := uint64(a.height())
	st := &cluster.Status{Node: a.name, State: "Validator", Term: "-", Applied: h, Commit: h, Program: a.hash()}
	if a.d != nil {
		st.State = "Validator (drives)"
	}
	if err := a.app.FSM().Broken(); err != nil {
		st.Broken = err.Error()
	}
	writeJSON(w, http.StatusOK, st)
}

func (a *BFTAPI) hash() string {
	h, _ := a.prog.Hash()
	return h
}

// driver returns the driver, answering 503 when this validator has none.
func (a *BFTAPI) driver(w http.ResponseWriter) *bft.Driver {
	if a.d == nil {
		writeJSON(w, http.StatusServiceUnavailable, clusterError{Error: fmt.Sprintf("validator %s does not drive cases; send writes to the validator started with --drive", a.name)})
	}
	return a.d
}

func (a *BFTAPI) start(w http.ResponseWriter, r *http.Request) {
	d := a.driver(w)
	if d == nil {
		return
	}
	var req ClusterStartRequest
	if err := decode(r, &req); err != nil {
		fail(w, err)
		return
	}
	net := a.prog.Net(req.Workflow)
	if req.ID == "" || net == nil {
		fail(w, fmt.Errorf("a start needs an id and a workflow of the program (got %q)", req.Workflow))
		return
	}
	var in []byte
	if len(req.Input) > 0 {
		in = req.Input
	}
	vals, err := caseio.DecodeInput(a.prog, net, in)
	if err != nil {
		fail(w, fmt.Errorf("bad input for %s: %w", req.Workflow, err))
		return
	}
	if err := d.Start(r.Context(), req.ID, req.Workflow, engine.Boxed(vals)); err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"started": req.ID})
}

func (a *BFTAPI) signal(w http.ResponseWriter, r *http.Request) {
	d := a.driver(w)
	if d == nil {
		return
	}
	id := r.PathValue("id")
	var req ClusterSignalRequest
	if err := decode(r, &req); err != nil {
		fail(w, err)
		return
	}
	st, _, ok := a.app.FSM().Case(id)
	if !ok {
		fail(w, fmt.Errorf("%w %s", engine.ErrUnknownCase, id))
		return
	}
	root := a.prog.Nets[st.Net]
	args, err := clusterSignalArgs(a.prog, root, req.Name, req.Payload)
	if err != nil {
		fail(w, err)
		return
	}
	if err := d.Signal(r.Context(), id, req.Name, args); err != nil {
		fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"signalled": id})
}

// get answers from this validator's committed state: every block it
// applied was certified by more than two thirds of the voting power.
func (a *BFTAPI) get(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	st, n, ok := a.app.FSM().Case(id)
	if !ok {
		fail(w, fmt.Errorf("%w %s", engine.ErrUnknownCase, id))
		return
	}
	writeJSON(w, http.StatusOK, caseView(a.prog, id, &cluster.View{State: st, Events: n, Node: a.name, Started: a.app.FSM().Started(id)}))
}

func (a *BFTAPI) list(w http.ResponseWriter, r *http.Request) {
	out := []*ClusterCase{}
	for _, id := range a.app.FSM().Cases(false) {
		if st, n, ok := a.app.FSM().Case(id); ok {
			out = append(out, caseView(a.prog, id, &cluster.View{State: st, Events: n, Node: a.name, Started: a.app.FSM().Started(id)}))
		}
	}
	writeJSON(w, http.StatusOK, out)
}
