// This file implements POST /erase?case=ID for a tenant served by a raft
// group (knhk serve --node --tenants): the erasure goes to the group's
// API (server's POST /cluster/v1/cases/{id}/erase), which commits it
// through the group's leader; every node then drops the case and
// destroys its own key of it (runtime/cluster's erase.go).

package tenant

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"connectrpc.com/connect"

	"github.com/knhk/knhk/server"
	"github.com/knhk/knhk/server/auth"
)

// eraseGroupCase erases case id of tenant t, whose group serves it, for
// p (the tenant's admin, or the operator's), retrying while the group
// has no leader.
func (h *Host) eraseGroupCase(w http.ResponseWriter, r *http.Request, t *served, p auth.Principal, id string) {
	// The group acts for the tenant's admin: the operator may erase any
	// tenant's case, as it may erase the tenant.
	as := auth.Principal{Tenant: t.id, Subject: p.Subject, Role: auth.RoleAdmin, ID: p.ID}
	body, _ := json.Marshal(map[string]string{"request_id": auth.NewTokenID()})
	path := strings.Replace(server.ClusterErasePath, "{id}", url.PathEscape(id), 1)
	for {
		req, err := http.NewRequestWithContext(auth.WithPrincipal(r.Context(), as), http.MethodPost, path, bytes.NewReader(body))
		if err != nil {
			server.WriteError(w, r, connect.CodeInvalidArgument, fmt.Sprintf("case id %q: %v", id, err))
			return
		}
		req.Header.Set("Content-Type", "application/json")
		h.markForward(req, as)
		rec := &answer{header: http.Header{}}
		t.group.ServeHTTP(rec, req)
		var ans struct {
			Error string `json:"error"`
			Retry bool   `json:"retry"`
		}
		json.Unmarshal(rec.body.Bytes(), &ans)
		switch {
		case rec.code == http.StatusOK:
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(EraseAnswer{Tenant: t.id, Case: id})
			return
		case rec.code == http.StatusServiceUnavailable && ans.Retry:
			select {
			case <-r.Context().Done():
			case <-time.After(250 * time.Millisecond):
				continue
			}
		}
		code, ok := map[int]connect.Code{http.StatusNotFound: connect.CodeNotFound, http.StatusPreconditionFailed: connect.CodeFailedPrecondition,
			http.StatusConflict: connect.CodeFailedPrecondition, http.StatusBadRequest: connect.CodeFailedPrecondition,
			http.StatusServiceUnavailable: connect.CodeUnavailable}[rec.code]
		if !ok {
			code = connect.CodeInternal
		}
		if ans.Error == "" {
			ans.Error = fmt.Sprintf("the group answered %d %s", rec.code, strings.TrimSpace(rec.body.String()))
		}
		server.WriteError(w, r, code, fmt.Sprintf("erasing case %s of tenant %s: %s", id, t.id, ans.Error))
		return
	}
}

// answer keeps what a handler wrote.
type answer struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (a *answer) Header() http.Header { return a.header }

func (a *answer) WriteHeader(code int) {
	if a.code == 0 {
		a.code = code
	}
}

func (a *answer) Write(b []byte) (int, error) {
	a.WriteHeader(http.StatusOK)
	return a.body.Write(b)
}
