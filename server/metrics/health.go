// This file implements the probes /healthz and /readyz.

package metrics

import (
	"fmt"
	"net/http"
	"sync"
)

// Health is where a server stands for its probes: starting (recovering
// its data directory), ready, or draining, and whether a check (the
// event log still takes appends) fails. The zero value is starting.
type Health struct {
	mu     sync.Mutex
	state  int // 0 starting, 1 ready, 2 draining
	reason string
	check  func() error
}

// SetCheck makes both probes fail while check returns an error: a
// fault the process cannot recover from without a restart, such as a
// failed fsync after which the event log refuses every append (the
// server's Err).
func (h *Health) SetCheck(check func() error) {
	h.mu.Lock()
	h.check = check
	h.mu.Unlock()
}

// fault returns the check's error, if any.
func (h *Health) fault() error {
	h.mu.Lock()
	check := h.check
	h.mu.Unlock()
	if check == nil {
		return nil
	}
	return check()
}

// Starting says the server is not ready yet, and why (shown by /readyz).
func (h *Health) Starting(why string) { h.set(0, why) }

// Ready says the data directory is open and recovered and calls are
// accepted.
func (h *Health) Ready() { h.set(1, "") }

// Draining says the server no longer accepts calls.
func (h *Health) Draining() { h.set(2, "draining: the server is stopping") }

func (h *Health) set(state int, why string) {
	h.mu.Lock()
	h.state, h.reason = state, why
	h.mu.Unlock()
}

// Err returns nil when the server is ready, else why not.
func (h *Health) Err() error {
	if err := h.fault(); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.state == 1:
		return nil
	case h.reason != "":
		return fmt.Errorf("%s", h.reason)
	default:
		return fmt.Errorf("starting")
	}
}

// Healthz answers 200 "ok" while the process serves HTTP, and 503 with
// the reason while the check set by [Health.SetCheck] fails (a restart
// is what helps then).
func (h *Health) Healthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := h.fault(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "unhealthy: %v\n", err)
			return
		}
		fmt.Fprintln(w, "ok")
	})
}

// Readyz answers 200 "ready" once [Health.Ready] was called and until
// [Health.Draining], while the check passes, else 503 with the reason.
func (h *Health) Readyz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if err := h.Err(); err != nil {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "not ready: %v\n", err)
			return
		}
		fmt.Fprintln(w, "ready")
	})
}
