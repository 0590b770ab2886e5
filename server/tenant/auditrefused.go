// This file keeps a refused call cheap in the audit: knhk serve
// --tenants audits every call, but one refused for its credential, its
// tenant's rate or in-flight bound has neither its body read nor a disk
// write of its own before it is answered.

package tenant

import (
	"errors"
	"net/http"

	"connectrpc.com/connect"

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
// an admitted call does, so a flood faster than the disk slows itself
// and no record is dropped.
const refusedInFlight = 1024

// appendRefused appends rec, the record of a call refused before it did
// anything, without holding the answer until it is durable and without
// a commit of its own: it rides the audit log's next group commit of an
// admitted call's record, or one of its own at most
// audit.DefaultLaterDelay later (audit.Log.AppendLater). So a tenant
// flooding the server with refused calls costs the shared disk a few
// fsyncs a second, not one per commit the writer can make, which delayed
// every other tenant's records and store syncs. The refusal acknowledged
// nothing, so a crash before that commit loses no effect the log should
// show; Close flushes the records still waiting, so a clean stop loses
// none.
func (h *Host) appendRefused(log *audit.Log, rec audit.Record) {
	h.refMu.Lock()
	later := !h.refDone && log.AppendLater(rec, refusedInFlight, func(err error) {
		if err != nil {
			h.opts.Logf("audit: %v", err)
		}
	})
	if later {
		h.refLogs[log] = true
	}
	h.refMu.Unlock()
	if !later {
		h.appendLogged(log, rec)
	}
}

// flushRefused makes the refusals' records still waiting durable; later
// refusals wait for their own record.
func (h *Host) flushRefused() {
	h.refMu.Lock()
	h.refDone = true
	logs := h.refLogs
	h.refLogs = nil
	h.refMu.Unlock()
	for log := range logs {
		if err := log.Flush(); err != nil && !errors.Is(err, audit.ErrClosed) {
			h.opts.Logf("audit: %v", err)
		}
	}
}

// refusedAccess says whether result is a refusal of the caller's access
// (its credential, its role, its tenant's rate or bounds): the call
// stopped before it did anything, on whichever route, so its record
// may be appended as a refusal's (appendRefused).
func refusedAccess(result string) bool {
	switch result {
	case connect.CodeUnauthenticated.String(), connect.CodePermissionDenied.String(), connect.CodeResourceExhausted.String(),
		"http_401", "http_403", "http_429":
		return true
	}
	return false
}
