// This file implements the administration of a cluster's tenants
// through any node (knhk tenant --server URL on knhk serve --node
// --tenants): GET /cluster/v1/tenants lists the tenants as the node's
// replica holds them; POST /cluster/v1/tenants creates, changes,
// suspends, resumes or deletes one, or issues a token. A follower
// forwards a POST to the cluster's leader, which computes the new
// registry from its replica's and commits it (runtime/cluster's
// ChangeTenancy); a change that lost a race with another is computed
// again. A request id makes a retried call idempotent. Both need the
// cluster's --token-file token: the operator's, never a tenant's.
//
// Tokens are signed with the committing node's own issuer key, whose
// public key goes into the tenancy with the token's commit: no private
// key is replicated, and any node can onboard a tenant while another
// (the founding one included) is down.

package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/server"
	"github.com/knhk/knhk/server/auth"
	"github.com/knhk/knhk/server/tenant"
)

// tenantsPath is the route of the cluster's tenant administration.
const tenantsPath = "/cluster/v1/tenants"

// maxAdminBody bounds an administration call's body (a tenant's trust
// directory and licence travel in it).
const maxAdminBody = 1 << 20

// tenantAdminRequest is a POST's body.
type tenantAdminRequest struct {
	// Op is create, set, suspend, resume, delete, erase, token or
	// revoke.
	Op string `json:"op"`
	ID string `json:"id"`
	// Req names the request: a retry with the same Req is applied once.
	Req   string       `json:"req,omitempty"`
	Quota tenant.Quota `json:"quota,omitzero"`
	// Given names the quotas set changes (rate, burst, max-running,
	// in-flight).
	Given []string `json:"given,omitempty"`
	// Role, Subject and TTL are the token's (create: an admin's).
	Role    string `json:"role,omitempty"`
	Subject string `json:"subject,omitempty"`
	TTL     string `json:"ttl,omitempty"`
	// Once (token) makes a one-time token: the nodes accept it for one
	// call (a write's use is in the tenant's raft log, so every node
	// refuses it again).
	Once bool `json:"once,omitempty"`
	// Encrypt (create) seals every node's copy of the tenant's group,
	// so that erase can crypto-shred it.
	Encrypt bool `json:"encrypt,omitempty"`
	// JTI and Serial (revoke) name a token or a client certificate to
	// refuse; Subject alone, every token of that subject issued so far.
	JTI    string `json:"jti,omitempty"`
	Serial string `json:"serial,omitempty"`
	// Files (create, set) are the tenant's public files by slash path
	// under its directory, replacing the parts Replace names (trust,
	// license.lic, license-trust; tenantremotefiles.go); Policy is the
	// weakest signature class its trust directory accepts.
	Files   map[string][]byte `json:"files,omitempty"`
	Replace []string          `json:"replace,omitempty"`
	Policy  string            `json:"policy,omitempty"`
}

// tenantAdminAnswer answers a POST.
type tenantAdminAnswer struct {
	Tenant  *tenant.Tenant `json:"tenant"`
	Token   string         `json:"token,omitempty"`
	TokenID string         `json:"token_id,omitempty"`
	// Rev is the tenancy's revision the answer holds; Node the node
	// that committed it and signed the token.
	Rev  uint64 `json:"rev"`
	Node string `json:"node"`
}

// tenantListAnswer answers a GET.
type tenantListAnswer struct {
	Rev     uint64          `json:"rev"`
	Node    string          `json:"node"`
	Tenants []*listedTenant `json:"tenants"`
}

type listedTenant struct {
	*tenant.Tenant
	Own string `json:"own"` // its own keys and licence, as knhk tenant list shows them
	// Founder is the node that bootstraps the tenant's raft group, and
	// Group the group as the answering node sees it (groupState).
	Founder string `json:"founder,omitempty"`
	Group   string `json:"group,omitempty"`
}

var quotaNames = []string{"rate", "burst", "max-running", "in-flight"}

// parseTenantAdmin decodes and checks a POST's body; it returns the
// token's role and lifetime.
func parseTenantAdmin(b []byte) (*tenantAdminRequest, auth.Role, time.Duration, error) {
	var q tenantAdminRequest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&q); err != nil {
		return nil, 0, 0, fmt.Errorf("bad request: %v", err)
	}
	switch q.Op {
	case "create", "set", "suspend", "resume", "delete", "erase", "token":
	case "revoke":
		if !revokesOne(q.JTI, q.Subject, q.Serial) { // tenantrevoke.go
			return nil, 0, 0, fmt.Errorf("revoke wants exactly one of a token id, a subject and a certificate serial")
		}
	default:
		return nil, 0, 0, fmt.Errorf("unknown op %q (want create, set, suspend, resume, delete, erase, token or revoke)", q.Op)
	}
	if err := tenant.CheckID(q.ID); err != nil {
		return nil, 0, 0, err
	}
	if err := checkTenantFiles(&q); err != nil {
		return nil, 0, 0, err
	}
	if len(q.Req) > 128 {
		return nil, 0, 0, fmt.Errorf("a request id of %d bytes (at most 128)", len(q.Req))
	}
	if qt := q.Quota; qt.Rate < 0 || qt.Burst < 0 || qt.MaxRunning < 0 || qt.InFlight < 0 {
		return nil, 0, 0, fmt.Errorf("quotas must not be negative: rate %v, burst %d, max-running %d, in-flight %d", qt.Rate, qt.Burst, qt.MaxRunning, qt.InFlight)
	}
	for _, g := range q.Given {
		if !slices.Contains(quotaNames, g) {
			return nil, 0, 0, fmt.Errorf("unknown quota %q (want %s)", g, strings.Join(quotaNames, ", "))
		}
	}
	role, ttl := auth.RoleAdmin, 720*time.Hour
	if q.Op == "token" {
		role = auth.RoleViewer
		if q.Role != "" {
			r, err := auth.ParseRole(q.Role)
			if err != nil {
				return nil, 0, 0, err
			}
			role = r
		}
	}
	if q.TTL != "" {
		d, err := time.ParseDuration(q.TTL)
		if err != nil || d <= 0 {
			return nil, 0, 0, fmt.Errorf("ttl %q: want a positive duration", q.TTL)
		}
		ttl = d
	}
	return &q, role, ttl, nil
}

// adminError is an administration call's failure: its HTTP status and
// whether a retry may succeed.
type adminError struct {
	code  int
	retry bool
	err   error
}

func (e *adminError) Error() string { return e.err.Error() }

// adminStatus is the HTTP status of administer's failure err and
// whether a retry may succeed: an adminError's own, or unavailable
// while the cluster has no leader or the outcome is unknown.
func adminStatus(err error) (int, bool) {
	var ae *adminError
	if errors.As(err, &ae) {
		return ae.code, ae.retry
	}
	var nl *cluster.NotLeaderError
	if errors.As(err, &nl) || errors.Is(err, cluster.ErrMaybeCommitted) {
		return http.StatusServiceUnavailable, true
	}
	return http.StatusInternalServerError, false
}

func writeAdminError(w http.ResponseWriter, code int, retry bool, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(struct {
		Error string `json:"error"`
		Retry bool   `json:"retry,omitempty"`
	}{msg, retry})
}

// serveAdmin answers tenantsPath.
func (ct *clusterTenants) serveAdmin(w http.ResponseWriter, r *http.Request) {
	if !bearerIs(r, ct.token) {
		writeAdminError(w, http.StatusUnauthorized, false, "administering the cluster's tenants needs the cluster's token (--token-file)")
		return
	}
	switch r.Method {
	case http.MethodGet:
		ct.listTenants(w)
		return
	case http.MethodPost:
	default:
		writeAdminError(w, http.StatusMethodNotAllowed, false, "GET lists the tenants, POST changes one")
		return
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxAdminBody+1))
	if err == nil && len(b) > maxAdminBody {
		err = fmt.Errorf("a body over %d bytes", maxAdminBody)
	}
	if err != nil {
		writeAdminError(w, http.StatusBadRequest, false, "reading the request: "+err.Error())
		return
	}
	q, role, ttl, err := parseTenantAdmin(b)
	if err != nil {
		writeAdminError(w, http.StatusBadRequest, false, err.Error())
		return
	}
	if ct.bft {
		if err := bftAdminRefused(q, ct.own); err != nil { // clusterbfttenants.go
			writeAdminError(w, http.StatusNotImplemented, false, err.Error())
			return
		}
	}
	if !ct.own.IsLeader() {
		ct.forwardAdmin(w, r, b)
		return
	}
	ans, err := ct.administer(r.Context(), q, role, ttl)
	if err != nil {
		code, retry := adminStatus(err)
		writeAdminError(w, code, retry, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(ans)
}

// forwardAdmin passes a follower's call to the cluster's leader, once.
func (ct *clusterTenants) forwardAdmin(w http.ResponseWriter, r *http.Request, body []byte) {
	_, api := ct.own.Leader()
	if api == "" || r.Header.Get(server.ForwardedByHeader) != "" {
		writeAdminError(w, http.StatusServiceUnavailable, true, ct.own.NotLeader().Error())
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, apiURL(api)+tenantsPath, bytes.NewReader(body))
	if err != nil {
		writeAdminError(w, http.StatusInternalServerError, false, err.Error())
		return
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", r.Header.Get("Authorization"))
	server.VouchForwarded(req.Header, server.ForwardKey(ct.token), ct.own.ID(), r.RemoteAddr, req.Method, req.URL.Path, time.Now())
	cluster.AuditForwarded(r.Context()) // the leader's front records it
	resp, err := ct.client.Do(req)
	if err != nil {
		writeAdminError(w, http.StatusServiceUnavailable, true, fmt.Sprintf("the leader %s: %v", api, err))
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, io.LimitReader(resp.Body, 1<<20))
}

// listTenants answers the tenants of this node's replica.
func (ct *clusterTenants) listTenants(w http.ResponseWriter) {
	tn := ct.own.FSM().Tenancy()
	reg, err := tenant.ParseRegistry(tn.Files["tenants.json"])
	if err != nil {
		writeAdminError(w, http.StatusInternalServerError, false, err.Error())
		return
	}
	ans := tenantListAnswer{Rev: tn.Rev, Node: ct.own.ID(), Tenants: []*listedTenant{}}
	for _, t := range reg.Tenants {
		lt := &listedTenant{Tenant: t, Own: ownFiles(tn.Files, t.ID), Founder: tn.Founders[t.ID]}
		if t.State != tenant.Deleted {
			lt.Group = ct.groupState(t.ID, lt.Founder)
		}
		ans.Tenants = append(ans.Tenants, lt)
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(ans)
}

// hasPath reports whether a tenancy's files hold path, as a file or as
// a directory.
func hasPath(files map[string][]byte, path string) bool {
	for p := range files {
		if p == path || strings.HasPrefix(p, path+"/") {
			return true
		}
	}
	return false
}

// ownFiles is ownKeys (tenant.go) of a tenancy's files.
func ownFiles(files map[string][]byte, id string) string {
	var out []string
	if hasPath(files, id+"/sign.pub") {
		out = append(out, "sign-key")
	}
	if hasPath(files, id+"/trust") {
		out = append(out, "trust")
	}
	if hasPath(files, id+"/license.lic") {
		out = append(out, "licence")
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, ",")
}

// administer carries out q on the leader: it computes the change from
// the replica's tenancy and commits it, again from the new tenancy when
// another change came first, and signs the token q asks for once the
// tenant and the node's issuer key are committed.
func (ct *clusterTenants) administer(ctx context.Context, q *tenantAdminRequest, role auth.Role, ttl time.Duration) (*tenantAdminAnswer, error) {
	fsm := ct.own.FSM()
	issues := q.Op == "create" || q.Op == "token"
	var key ed25519.PrivateKey
	var pub []byte
	var err error
	if issues {
		// Made on first use: a node that never issued a token has none.
		if key, err = nodeIssuerKey(ct.data, ct.own.ID()); err != nil {
			return nil, err
		}
		pub = tenant.PublicPEM(key.Public().(ed25519.PublicKey))
	}
	applied := false // a former call of q.Req committed q's change
	for attempt := 0; attempt < 32; attempt++ {
		reqID := ""
		if q.Req != "" {
			reqID = fmt.Sprintf("tenant %s %d", q.Req, attempt)
			if res, ok := fsm.Request(reqID); ok && !applied {
				if res.Err != nil {
					continue // that attempt lost a race, or was refused: the next says which
				}
				applied = true
			}
		}
		tn := fsm.Tenancy()
		var ch *cluster.TenancyChange
		var t *tenant.Tenant
		if applied {
			reg, err := tenant.ParseRegistry(tn.Files["tenants.json"])
			if err != nil {
				return nil, err
			}
			if t = reg.Get(q.ID); t == nil {
				return nil, fmt.Errorf("tenant %s is not in the registry its request committed to", q.ID)
			}
			reqID = ""
		} else if ch, t, err = tenancyChange(tn, q, ct.own.ID()); err != nil {
			return nil, err
		} else if err := ct.checkDeployedTrusted(tn, ch, t, q); err != nil {
			return nil, err
		}
		if issues && !bytes.Contains(tn.Files[nodeIssuers], pub) {
			// The token's key goes with the commit: every node that
			// applied it verifies the token.
			if ch == nil {
				ch = &cluster.TenancyChange{Base: tn.Rev, Files: map[string][]byte{}}
			}
			ch.Files[nodeIssuers] = append(slices.Clone(tn.Files[nodeIssuers]), pub...)
		}
		rev := tn.Rev
		if ch != nil {
			rev, err = ct.own.ChangeTenancy(ctx, reqID, ch)
			if errors.Is(err, cluster.ErrConflict) {
				continue
			}
			if err != nil {
				return nil, err
			}
		}
		ans := &tenantAdminAnswer{Tenant: t, Rev: rev, Node: ct.own.ID()}
		if issues {
			subject := q.Subject
			if q.Op == "create" || subject == "" {
				subject = q.ID + "-" + role.String()
			}
			ans.TokenID = auth.NewTokenID()
			p := auth.Principal{Subject: subject, Tenant: q.ID, Role: role, ID: ans.TokenID, Once: q.Once && q.Op == "token"}
			if ans.Token, err = auth.Issue(key, tenant.Issuer, p, ttl, time.Now()); err != nil {
				return nil, err
			}
		}
		return ans, nil
	}
	return nil, &adminError{code: http.StatusServiceUnavailable, retry: true, err: errors.New("the tenancy kept changing under the request; try again")}
}

// tenancyChange computes q's change of the tenancy tn (nil for a token
// alone) and the tenant it leaves; node is the committing node, the
// founder of a tenant it creates.
func tenancyChange(tn cluster.Tenancy, q *tenantAdminRequest, node string) (*cluster.TenancyChange, *tenant.Tenant, error) {
	reg, err := tenant.ParseRegistry(tn.Files["tenants.json"])
	if err != nil {
		return nil, nil, fmt.Errorf("the replicated registry: %w", err)
	}
	ch := &cluster.TenancyChange{Base: tn.Rev, Files: map[string][]byte{}}
	missing := func() error {
		return &adminError{code: http.StatusNotFound, err: fmt.Errorf("no tenant %s", q.ID)}
	}
	var t *tenant.Tenant
	switch q.Op {
	case "create":
		if t, err = reg.Create(q.ID, q.Quota, time.Now()); err != nil {
			return nil, nil, &adminError{code: http.StatusConflict, err: err}
		}
		t.Encrypt = q.Encrypt
		ch.Founders = map[string]string{q.ID: node}
		if err := applyTenantFiles(ch, tn.Files, t, q); err != nil {
			return nil, nil, err
		}
	case "token", "set", "revoke":
		if t = reg.Get(q.ID); t == nil || t.State == tenant.Deleted {
			return nil, nil, missing()
		}
		switch q.Op {
		case "token":
			return nil, t, nil
		case "revoke":
			b, err := revoked(tn.Files[q.ID+"/revoked.json"], q)
			if err != nil {
				return nil, nil, err
			}
			ch.Files[q.ID+"/revoked.json"] = b
			return ch, t, nil
		}
		for _, g := range q.Given {
			switch g {
			case "rate":
				t.Quota.Rate = q.Quota.Rate
			case "burst":
				t.Quota.Burst = q.Quota.Burst
			case "max-running":
				t.Quota.MaxRunning = q.Quota.MaxRunning
			case "in-flight":
				t.Quota.InFlight = q.Quota.InFlight
			}
		}
		if err := applyTenantFiles(ch, tn.Files, t, q); err != nil {
			return nil, nil, err
		}
	default:
		s := map[string]tenant.State{"suspend": tenant.Suspended, "resume": tenant.Active, "delete": tenant.Deleted, "erase": tenant.Deleted}[q.Op]
		if t = reg.Get(q.ID); t == nil {
			return nil, nil, missing()
		}
		if q.Op == "erase" && !t.Encrypt && t.State != tenant.Deleted {
			return nil, nil, &adminError{code: http.StatusPreconditionFailed, err: fmt.Errorf("cannot erase: tenant %s's data was written without encryption (knhk tenant create --encrypt; knhk tenant delete removes it from every node)", q.ID)}
		}
		if t, err = reg.SetState(q.ID, s); err != nil {
			return nil, nil, &adminError{code: http.StatusConflict, err: err}
		}
		if q.Op == "erase" {
			// Every node that applies it destroys its key of the
			// tenant's group before it removes its copy.
			t.Erased = time.Now().UTC().Truncate(time.Second)
		}
		if s == tenant.Deleted {
			// Its licence, keys and revocations go with it; the
			// registry keeps its id, never reused.
			for p := range tn.Files {
				if strings.HasPrefix(p, q.ID+"/") {
					ch.Remove = append(ch.Remove, p)
				}
			}
			slices.Sort(ch.Remove)
		}
	}
	b, err := reg.Encode()
	if err != nil {
		return nil, nil, err
	}
	ch.Files["tenants.json"] = b
	return ch, t, nil
}

// revoked returns the revocation list old (a tenant's revoked.json, nil
// for none) with q's revocation added, through server/tenant's own
// reading and writing of the list.
func revoked(old []byte, q *tenantAdminRequest) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "knhk-revoke-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if old != nil {
		p := tenant.RevocationsPath(tmp, q.ID)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, old, 0o600); err != nil {
			return nil, err
		}
	}
	r, err := tenant.LoadRevocations(tmp, q.ID)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	switch {
	case q.JTI != "":
		err = r.RevokeToken(q.JTI, now)
	case q.Serial != "":
		err = r.RevokeCertificate(q.Serial, now)
	default:
		err = r.RevokeSubject(q.Subject, now)
	}
	if err != nil {
		return nil, &adminError{code: http.StatusBadRequest, err: err}
	}
	if err := r.Save(tmp, q.ID); err != nil {
		return nil, err
	}
	return os.ReadFile(tenant.RevocationsPath(tmp, q.ID))
}

// groupState says how tenant id's raft group stands on this node, so
// that a tenant without a working group says why: in particular one
// whose founder (the only node that may bootstrap it) went down before
// it did, which the other nodes wait for rather than start a second
// history of the tenant.
func (ct *clusterTenants) groupState(id, founder string) string {
	ct.mu.Lock()
	g := ct.groups[id]
	ct.mu.Unlock()
	if ct.bft {
		return bftSpaceState(ct.own, id) // clusterbfttenants.go
	}
	if g == nil {
		return "not open on " + ct.own.ID()
	}
	st, err := g.n.Status()
	switch {
	case err != nil:
		return err.Error()
	case st.Broken != "":
		return "broken on " + ct.own.ID() + ": " + st.Broken
	case len(st.Members) == 0 && founder != "":
		return fmt.Sprintf("not started: its founder %s has not bootstrapped it (is %s down? it does when it comes back)", founder, founder)
	case len(st.Members) == 0:
		return "not started"
	case st.Leader == "":
		return fmt.Sprintf("no leader (%d members)", len(st.Members))
	}
	return fmt.Sprintf("led by %s (%d members)", st.Leader, len(st.Members))
}
