// This file implements mounting the handlers on a server's mux, and the
// front handler that answers the probes while the server starts.

package metrics

import (
	"net/http"
	"sync/atomic"
)

// Mux is where [Mount] puts the handlers; *server.Mux implements it.
// Handle puts a handler behind the server's bearer token, HandlePublic
// in front of it.
type Mux interface {
	Handle(pattern string, h http.Handler)
	HandlePublic(pattern string, h http.Handler)
}

// Mount puts /metrics (behind the token: metrics name workflows, tasks
// and queues) and the public probes /healthz and /readyz on mux.
func Mount(mux Mux, m *Metrics, h *Health) {
	mux.Handle("GET /metrics", m.Handler())
	mux.HandlePublic("GET /healthz", h.Healthz())
	mux.HandlePublic("GET /readyz", h.Readyz())
}

// Front is the handler of a server's listener from before its data
// directory is open: until [Front.Set], it answers /healthz and /readyz
// from its Health and every other request with 503, so that probes see
// a live process that is not ready yet while recovery runs; then it
// hands every request to the handler set.
type Front struct {
	health *Health
	h      atomic.Pointer[http.Handler]
}

// NewFront returns a Front over h.
func NewFront(h *Health) *Front { return &Front{health: h} }

// Set routes every later request to h.
func (f *Front) Set(h http.Handler) { f.h.Store(&h) }

func (f *Front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h := f.h.Load(); h != nil {
		(*h).ServeHTTP(w, r)
		return
	}
	switch r.URL.Path {
	case "/healthz":
		f.health.Healthz().ServeHTTP(w, r)
	case "/readyz":
		f.health.Readyz().ServeHTTP(w, r)
	default:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`{"code":"unavailable","message":"the server is starting: it is recovering its data directory"}`))
	}
}
