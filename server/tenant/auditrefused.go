// This file keeps a refused call cheap in the audit: knhk serve
// --tenants audits every call, but one refused for its credential, its
// tenant's rate or in-flight bound has neither its body read nor a disk
// write of its own before it is answered.

package tenant

import (
	"net/http"

	"github.com/knhk/knhk/runtime/audit"
)

// admitCall marks r as admitted by the Host (past its credential, its
// tenant's state, rate and in-flight bound) and reads the target ids its
// audit record names from its body, which is put back for the handler.
// A call never admitted is audited without them: reading and decoding
// the body of every call of a tenant flooding the server beyond its rate
// was the cost of its refusals.
func (h *Host) admitCall(r *http.Request) {
	s, ok := r.Context().Value(callerKey{}).(*callerSlot)
	if !ok || !s.lazy || s.admitted {
		return
	}
	s.admitted = true
	s.targets = requestTargets(r, h.opts.MaxBody)
}

// refusedInFlight bounds the refusals' records waiting for the audit
// log's next group commit; beyond it a refusal waits for its record as
// an admitted call does, so a flood slows itself and no record is
// dropped.
const refusedInFlight = 1024

// appendRefused appends rec, the record of a call the Host refused,
// without holding the answer until it is durable: it joins the audit
// log's next group commit (runtime/audit) with the records of the
// admitted calls, rather than costing the refused caller's answer an
// fsync. The refusal acknowledged nothing, so a crash before that
// commit loses no effect the log should show; Close waits for the
// records still on their way, so a clean stop loses none.
func (h *Host) appendRefused(log *audit.Log, rec audit.Record) {
	h.refMu.RLock()
	later := !h.refDone
	if later {
		select {
		case h.refusing <- struct{}{}:
			h.auditing.Add(1)
		default:
			later = false
		}
	}
	h.refMu.RUnlock()
	if !later {
		h.appendLogged(log, rec)
		return
	}
	go func() {
		defer h.auditing.Done()
		defer func() { <-h.refusing }()
		h.appendLogged(log, rec)
	}()
}
