// This file implements the right to erasure through knhk serve
// --tenants: POST /erase?case=ID crypto-shreds one case of the caller's
// tenant, POST /erase?tenant=ID a whole tenant (its own admin, or the
// operator: an admin of the default tenant). Like the audit export it is
// no route of a tenant's mux and authenticates its caller itself; the
// audit front records it (audit.go).

package tenant

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"connectrpc.com/connect"

	"github.com/knhk/knhk/server"
	"github.com/knhk/knhk/server/auth"
)

// ErasePath is the route of erasures.
const ErasePath = "/erase"

// SetDefaultService gives h the default tenant's Service, so that an
// erasure of the default tenant's cases reaches it.
func (h *Host) SetDefaultService(svc *server.Service) { h.defSvc.Store(svc) }

// GroupEraser erases tenant id's data on every node of a raft cluster
// (knhk serve --node --tenants): it commits the erasure to the
// cluster's log, and each node destroys its key of the tenant's group.
type GroupEraser func(ctx context.Context, id string) error

// SetGroupEraser gives h the eraser of its cluster tenants' data; without
// one, erasing a tenant served by a raft group is refused.
func (h *Host) SetGroupEraser(e GroupEraser) { h.eraser.Store(&e) }

// eraseTargets are the ids an erasure names, for its audit record.
func eraseTargets(r *http.Request) []string {
	var t []string
	if id := r.URL.Query().Get("case"); id != "" {
		t = append(t, "case_id="+id)
	}
	if id := r.URL.Query().Get("tenant"); id != "" {
		t = append(t, "tenant="+id)
	}
	return t
}

// EraseAnswer is the JSON answer of a successful erasure.
type EraseAnswer struct {
	Tenant string `json:"tenant"`
	Case   string `json:"case,omitempty"`
	Cases  int    `json:"cases,omitempty"` // a tenant's: how many were erased
}

func (h *Host) serveErase(w http.ResponseWriter, r *http.Request) {
	p, ok := h.admin(w, r, http.MethodPost, "an erasure is a POST", "erase data")
	if !ok {
		return
	}
	q := r.URL.Query()
	caseID, tid := q.Get("case"), q.Get("tenant")
	if caseID == "" && tid == "" {
		server.WriteError(w, r, connect.CodeInvalidArgument, "an erasure names a case (case=ID, and tenant=ID for another tenant's) or a tenant (tenant=ID)")
		return
	}
	if tid == "" {
		tid = p.Tenant
	} else if tid != p.Tenant && p.Tenant != auth.DefaultTenant {
		// Another tenant's: as if it did not exist (no data, no hint).
		server.WriteError(w, r, connect.CodeNotFound, fmt.Sprintf("no tenant %s", tid))
		return
	}
	if handled := h.eraseGroup(w, r, p, tid, caseID); handled {
		return
	}
	svc, code, err := h.eraseService(tid)
	if err != nil {
		server.WriteError(w, r, code, err.Error())
		return
	}
	ans := EraseAnswer{Tenant: tid, Case: caseID}
	if caseID != "" {
		err = svc.EraseCase(r.Context(), caseID)
	} else {
		ans.Cases, err = svc.EraseAll(r.Context())
	}
	if err != nil {
		server.WriteError(w, r, serviceCode(err), err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(ans)
}

// eraseService returns the Service of tenant id.
func (h *Host) eraseService(id string) (*server.Service, connect.Code, error) {
	if id == auth.DefaultTenant {
		if svc := h.defSvc.Load(); svc != nil {
			return svc, 0, nil
		}
		return nil, connect.CodeFailedPrecondition, fmt.Errorf("the default tenant's data is erased locally (knhk case erase --data DIR)")
	}
	t, code, err := h.tenant(id)
	if err != nil {
		return nil, code, err
	}
	if t.group != nil {
		return nil, connect.CodeUnimplemented, errGroupErase
	}
	return t.svc, 0, nil
}

func serviceCode(err error) connect.Code {
	switch server.CodeOf(err) {
	case server.CodeNotFound:
		return connect.CodeNotFound
	case server.CodeFailedPrecondition:
		return connect.CodeFailedPrecondition
	case server.CodeInvalidArgument:
		return connect.CodeInvalidArgument
	case server.CodeUnavailable:
		return connect.CodeUnavailable
	}
	return connect.CodeInternal
}

// eraseGroup erases tenant tid when a raft group serves it, and reports
// whether it answered the call.
func (h *Host) eraseGroup(w http.ResponseWriter, r *http.Request, p auth.Principal, tid, caseID string) bool {
	if tid == auth.DefaultTenant {
		return false
	}
	t, code, err := h.tenant(tid)
	if err != nil {
		server.WriteError(w, r, code, err.Error())
		return true
	}
	if t.group == nil {
		return false
	}
	if caseID != "" {
		h.eraseGroupCase(w, r, t, p, caseID) // erasecluster.go
		return true
	}
	e := h.eraser.Load()
	if e == nil {
		server.WriteError(w, r, connect.CodeUnimplemented, errGroupErase.Error())
		return true
	}
	if err := (*e)(r.Context(), tid); err != nil {
		c := connect.CodeOf(err)
		if c == connect.CodeUnknown {
			c = connect.CodeFailedPrecondition
		}
		server.WriteError(w, r, c, err.Error())
		return true
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(EraseAnswer{Tenant: tid})
	return true
}
