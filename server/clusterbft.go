// This file implements the HTTP API of a validator in the Byzantine
// mode (knhk serve --bft): the paths of the cluster API, so that knhk
// cluster status, start, signal, get and cases work on both modes.
// Every validator answers reads from its own committed state; writes go
// to the driver, the validator the committed lease names, and the
// others forward them to the API address its lease carries.

package server

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/caseio"
	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/cluster/bft"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
)

// BFTAPI serves one validator's HTTP API.
type BFTAPI struct {
	name string
	// tenant is the space of the chain the API serves ("" for the
	// cluster's own; runtime/cluster/bft space.go).
	tenant string
	app    *bft.App
	sb     *bft.Standby // nil unless the validator may drive
	height func() int64
	prog   *ir.Program
	mux    *http.ServeMux
	client *http.Client
	// vouch keys the vouch of a forwarded call's client address
	// (forwardvouch.go); nil without the nodes' token.
	vouch []byte
	// guard checks the bearer token (clusterauth.go); nil without one.
	guard http.Handler
	// MaxBody bounds request bodies.
	MaxBody int64
	// Kernels, if set, runs the kernel calls of the validator's queries
	// (the runner of its steps; clusterkernels.go); nil: the device.
	Kernels eval.KernelRunner
}

// NewBFTAPI returns the API of validator name; sb is nil for a
// validator that never drives; height reports its latest block.
func NewBFTAPI(name string, app *bft.App, sb *bft.Standby, height func() int64, prog *ir.Program) *BFTAPI {
	a := &BFTAPI{name: name, app: app, sb: sb, height: height, prog: prog, mux: http.NewServeMux(),
		client: &http.Client{Timeout: 2 * time.Minute}, MaxBody: DefaultMaxBody}
	a.mux.HandleFunc("GET "+cluster.StatusPath, a.status)
	a.mux.HandleFunc("POST /cluster/v1/cases", a.write(a.start))
	a.mux.HandleFunc("POST /cluster/v1/cases/{id}/signal", a.write(a.signal))
	a.mux.HandleFunc("POST /cluster/v1/cases/{id}/cancel", a.write(a.cancel))
	a.mux.HandleFunc("POST "+ClusterErasePath, a.erase) // clusterbfterase.go
	a.mux.HandleFunc("GET /cluster/v1/cases/{id}", a.get)
	a.mux.HandleFunc("GET /cluster/v1/cases", a.list)
	// The Connect API of a single knhk serve (knhk run --server and the
	// like): reads from this validator, writes by the driver.
	path, h := knhkv1connect.NewKnhkServiceHandler(&bftRPC{a: a}, apiCompression())
	a.mux.Handle(path, a.connectRoute(h))
	return a
}

// NewBFTTenantAPI returns validator name's API of tenant's space of the
// chain (knhk serve --bft --tenants): the same routes, over the
// tenant's cases only, written by the driver of the tenant's space.
func NewBFTTenantAPI(name, tenant string, app *bft.App, sb *bft.Standby, height func() int64, prog *ir.Program) *BFTAPI {
	a := NewBFTAPI(name, app, sb, height, prog)
	a.tenant = tenant
	return a
}

// fsm is the state of the API's space.
func (a *BFTAPI) fsm() *cluster.FSM { return a.app.Space(a.tenant) }

func (a *BFTAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, a.MaxBody)
	if a.guard != nil {
		a.guard.ServeHTTP(w, r)
		return
	}
	a.mux.ServeHTTP(w, r)
}

func (a *BFTAPI) hash() string {
	h, _ := a.prog.Hash()
	return h
}

// Driver returns this validator's driver, nil while it does not drive.
func (a *BFTAPI) Driver() *bft.Driver {
	if a.sb == nil {
		return nil
	}
	return a.sb.TenantDriver(a.tenant)
}

// errNoDriver is the answer to a write while no validator drives or the
// driver's API cannot be reached: retry, a standby takes the lease once
// the last holder's lapses.
var errNoDriver = errors.New("no driver to take the call")

// bftFail answers err; a call that another driver (or a retry) can
// carry out is answered 503 with retry set.
func bftFail(w http.ResponseWriter, err error) {
	if errors.Is(err, bft.ErrDeposed) || errors.Is(err, errNoDriver) {
		writeJSON(w, http.StatusServiceUnavailable, clusterError{Error: err.Error(), Retry: true})
		return
	}
	fail(w, err)
}

// write runs h with the driver when this validator drives, and
// otherwise forwards the call, once, to the driver's API.
func (a *BFTAPI) write(h func(http.ResponseWriter, *http.Request, *bft.Driver)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if d := a.Driver(); d != nil {
			h(a.stamped(w), r, d)
			return
		}
		a.forward(w, r)
	}
}

// forward passes a write, once, to the API of the driver the committed
// lease names, and answers what it answered.
func (a *BFTAPI) forward(w http.ResponseWriter, r *http.Request) {
	l := a.app.Lease()
	if l.Driver == "" || l.API == "" || r.Header.Get(ForwardedByHeader) != "" {
		bftFail(w, fmt.Errorf("%w: validator %s does not drive and the lease (term %d) names no reachable driver", errNoDriver, a.name, l.Term))
		return
	}
	req, err := forwardedRequest(r.Context(), r, l.API, a.name, a.vouch)
	if err != nil {
		fail(w, err)
		return
	}
	resp, err := a.client.Do(req)
	if err != nil {
		bftFail(w, fmt.Errorf("%w: the driver of term %d at %s: %v", errNoDriver, l.Term, l.API, err))
		return
	}
	defer resp.Body.Close()
	a.await(r.Context(), resp.Header.Get(heightHeader))
	relay(w, resp)
}

func (a *BFTAPI) start(w http.ResponseWriter, r *http.Request, d *bft.Driver) {
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
		bftFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"started": req.ID})
}

func (a *BFTAPI) signal(w http.ResponseWriter, r *http.Request, d *bft.Driver) {
	id := r.PathValue("id")
	var req ClusterSignalRequest
	if err := decode(r, &req); err != nil {
		fail(w, err)
		return
	}
	if len(req.RequestID) > maxKey {
		fail(w, fmt.Errorf("a request id is longer than %d bytes", maxKey))
		return
	}
	st, _, ok := a.fsm().Case(id)
	if !ok {
		fail(w, fmt.Errorf("%w %s", engine.ErrUnknownCase, id))
		return
	}
	prog, _ := a.caseProgram(id)
	args, err := clusterSignalArgs(prog, prog.Nets[st.Net], req.Name, req.Payload)
	if err != nil {
		fail(w, err)
		return
	}
	if err := d.Signal(r.Context(), req.RequestID, id, req.Name, args); err != nil {
		bftFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"signalled": id})
}

func (a *BFTAPI) cancel(w http.ResponseWriter, r *http.Request, d *bft.Driver) {
	id := r.PathValue("id")
	if err := d.Cancel(r.Context(), id); err != nil {
		bftFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"cancelled": id})
}

// get answers from this validator's committed state: every block it
// applied was certified by more than two thirds of the voting power.
func (a *BFTAPI) get(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	st, n, ok := a.fsm().Case(id)
	if !ok {
		fail(w, fmt.Errorf("%w %s", engine.ErrUnknownCase, id))
		return
	}
	prog, _ := a.caseProgram(id)
	writeJSON(w, http.StatusOK, caseView(prog, id, &cluster.View{State: st, Events: n, Node: a.name, Started: a.fsm().Started(id)}))
}

func (a *BFTAPI) list(w http.ResponseWriter, r *http.Request) {
	out := []*ClusterCase{}
	for _, id := range a.fsm().Cases(false) {
		if st, n, ok := a.fsm().Case(id); ok {
			prog, _ := a.caseProgram(id)
			out = append(out, caseView(prog, id, &cluster.View{State: st, Events: n, Node: a.name, Started: a.fsm().Started(id)}))
		}
	}
	writeJSON(w, http.StatusOK, out)
}
