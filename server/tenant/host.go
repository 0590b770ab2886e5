// This file implements the HTTP front of knhk serve --tenants.

package tenant

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"

	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/server"
	"github.com/knhk/knhk/server/auth"
	"github.com/knhk/knhk/server/console"
)

// Options configures [NewHost].
type Options struct {
	// Data is the data directory; the default tenant's Service is opened
	// on it by the caller, the other tenants' under Data/tenants.
	Data string
	// Verifier checks bearer tokens (an *auth.Verifier or *auth.Issuers).
	Verifier interface {
		Verify(token string) (auth.Principal, error)
	}
	// Open opens the Service of a tenant in dir; admit, when not nil, is
	// the tenant's running-case cap, for server.Options.AdmitStart.
	Open func(id, dir string, admit func(workflow string) (func(), error)) (*server.Service, error)
	// OpenGroup, when set, opens tenants instead of Open: a tenant is
	// then served by the Group it returns (group.go), and every active
	// tenant is opened as soon as the registry lists it, so that a
	// cluster's tenant groups run on every node before a call comes.
	OpenGroup func(id, dir string, admit func(workflow string) (func(), error)) (Group, error)
	// Mount, if set, adds a tenant's own handlers to its mux once it is
	// open (knhk serve: the tenant's /metrics).
	Mount func(id string, svc *server.Service, mux *server.Mux)
	// Closed, if set, is called once tenant id's Service, opened by Open,
	// is closed (knhk serve: the tenant's receipt log signs its last
	// checkpoint).
	Closed func(id string)
	// MaxBody bounds a request's body in bytes.
	MaxBody int64
	// Reload is how often the registry is reread (default 1s), so knhk
	// tenant suspend and delete take effect on a running server.
	Reload time.Duration
	// Logf, if set, reports tenants opened, closed and erased.
	Logf func(format string, args ...any)
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// ReplayWindow is how far a request nonce's time may be from the
	// server's clock (default DefaultReplayWindow); RequireNonce refuses
	// calls that change data without a nonce (replay.go).
	ReplayWindow time.Duration
	RequireNonce bool
	// NodeToken, on a cluster node, is the nodes' own token: a call that
	// bears it with a ForwardedPrincipalHeader is that principal's, as
	// the node that forwarded it verified it (forward.go).
	NodeToken string
}

// Host serves the tenants of a data directory.
type Host struct {
	opts Options
	// fwdKey checks a forwarded call's vouch (server's forwardvouch.go):
	// the key of Options.NodeToken, nil without it.
	fwdKey []byte
	def    http.Handler
	tokens tokenCache
	replay *replayGuard
	// revoked holds every tenant's revocation list (revoke.go).
	revoked revocations
	// sessions are the console's signed-in sessions (session.go).
	sessions sessions

	// reloading serializes reload, so that a reload that finds the
	// registry already read returns only once the one that read it has
	// closed and erased what it must.
	reloading sync.Mutex

	mu      sync.Mutex
	reg     *Registry
	regTime time.Time // modification time of the registry read
	open    map[string]*served
	// closing holds the tenants being closed to reopen with new keys or
	// a new licence (keys.go): a call waits for the close before opening.
	closing map[string]chan struct{}
	closed  bool
	stop    chan struct{}
	done    chan struct{}
	// The audit logs that hold refused calls' records waiting for a
	// group commit (auditrefused.go); Close flushes them.
	refLogs map[*audit.Log]bool
	refMu   sync.Mutex // Close holds it to stop new ones going
	refDone bool
	// outcomes are the cluster's outcome records still being appended
	// after their answer (auditcluster.go); Close waits for them.
	outcomes sync.WaitGroup
	// What erasures reach beyond the tenants' own Services (erase.go):
	// the default tenant's Service, a raft cluster's eraser of a
	// tenant's whole data.
	defSvc atomic.Pointer[server.Service]
	eraser atomic.Pointer[GroupEraser]
	// share orders the calls of tenants at their limits after the
	// others' (share.go); nil only in benchmarks that compare without.
	share *share
}

// served is an open tenant; its fields are set once ready is closed,
// err when it failed to open.
type served struct {
	id     string
	rev    int // the registry revision of the tenant's keys and licence opened
	ready  chan struct{}
	err    error
	svc    *server.Service
	mux    *server.Mux
	group  Group // instead of svc and mux, with Options.OpenGroup
	cap    *runningCap
	mu     sync.Mutex // guards quota and bucket, which a reload replaces
	quota  Quota
	bucket *bucket
	gate   *gate
}

// take takes a token of the tenant's rate.
func (s *served) take(now time.Time) (bool, time.Duration) {
	s.mu.Lock()
	b := s.bucket
	s.mu.Unlock()
	return b.take(now)
}

// enter passes the tenant's gate of calls in flight (fair.go).
func (s *served) enter(r *http.Request) (func(), error) {
	if !gated(r.URL.Path) {
		return func() {}, nil
	}
	s.mu.Lock()
	g := s.gate
	s.mu.Unlock()
	return g.enter(r.Context(), s.id)
}

// setQuota applies a changed quota to the open tenant.
func (s *served) setQuota(q Quota, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q == s.quota {
		return
	}
	if q.Rate != s.quota.Rate || q.Burst != s.quota.Burst {
		s.bucket = newBucket(q, now)
	}
	if q.InFlight != s.quota.InFlight {
		s.gate = newGate(q) // calls in the old one finish there
	}
	s.quota = q
	if s.cap != nil {
		s.cap.setMax(q.MaxRunning)
	}
}

// NewHost returns the front of the tenants of o.Data. Set the default
// tenant's handler with [Host.SetDefault] before serving.
func NewHost(o Options) (*Host, error) {
	if o.Reload <= 0 {
		o.Reload = time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	h := &Host{opts: o, fwdKey: server.ForwardKey(o.NodeToken), open: map[string]*served{}, closing: map[string]chan struct{}{}, stop: make(chan struct{}), done: make(chan struct{}), refLogs: map[*audit.Log]bool{}, share: newShare(o.Now)}
	g, err := newReplayGuard(o.Data, o.ReplayWindow, o.RequireNonce, o.Now())
	if err != nil {
		return nil, err
	}
	h.replay = g
	h.revoked.data = o.Data
	h.tokens.revoked = &h.revoked
	if err := h.reload(); err != nil {
		return nil, err
	}
	h.reloadRevocations()
	// Open every tenant that may have cases running, so that their
	// timers and tasks go on after a restart without waiting for a call.
	for _, t := range h.reg.Tenants {
		if t.State == Active || t.State == Suspended {
			go func(id string, q Quota, rev int) {
				if _, err := h.serve(id, q, rev); err != nil {
					h.opts.Logf("%v", err)
				}
			}(t.ID, t.Quota, t.Revision)
		}
	}
	go h.loop()
	return h, nil
}

// SetDefault sets the handler of the default tenant (the data
// directory's own Service), built on a server.Mux whose Authorize is
// h.Authorizer(auth.DefaultTenant).
func (h *Host) SetDefault(def http.Handler) { h.def = def }

// Authorizer returns the check of every guarded route of tenant's mux:
// the caller's verified principal must belong to tenant and hold at least
// the role the route needs (auth.Required; admin for a route without an
// entry).
func (h *Host) Authorizer(tenant string) func(*http.Request) error {
	return func(r *http.Request) error {
		p, ok := auth.FromContext(r.Context())
		if !ok {
			return connect.NewError(connect.CodeUnauthenticated, errors.New("missing bearer token"))
		}
		if p.Tenant != tenant {
			return connect.NewError(connect.CodeUnauthenticated, fmt.Errorf("the token is for tenant %s", p.Tenant))
		}
		need, ok := auth.Required(r)
		if !ok {
			need = auth.RoleAdmin
		}
		if p.Role < need {
			return connect.NewError(connect.CodePermissionDenied, fmt.Errorf("role %s may not call %s (needs %s)", p.Role, r.URL.Path, need))
		}
		return nil
	}
}

// bearer returns the request's token: the Authorization header, or the
// console's knhk-token cookie (a browser cannot set the header on a page
// load).
func bearer(r *http.Request) (string, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		return tok, ok
	}
	if c, err := r.Cookie("knhk-token"); err == nil && c.Value != "" {
		return c.Value, true
	}
	return "", false
}

func (h *Host) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case LoginPath:
		h.login(w, r) // session.go
		return
	case LogoutPath:
		h.logout(w, r)
		return
	}
	fwd := r.Header.Get(ForwardedPrincipalHeader)
	r.Header.Del(ForwardedPrincipalHeader) // trusted only from a node, below
	p, has, err := h.authenticate(r)       // credential.go
	if fwd != "" && has && err == nil && h.fromNode(r) {
		p, err = decodeForwarded(fwd)
	}
	if !has {
		h.def.ServeHTTP(w, r) // public routes only: its Authorizer refuses the rest
		return
	}
	if err != nil {
		server.WriteError(w, r, connect.CodeUnauthenticated, err.Error())
		return
	}
	need, ok := auth.Required(r)
	if !ok {
		need = auth.RoleAdmin
	}
	bind, err := h.replay.check(r, p, need, h.opts.MaxBody, h.opts.Now())
	if err != nil {
		server.WriteError(w, r, connect.CodeUnauthenticated, err.Error())
		return
	}
	r = r.WithContext(withBind(auth.WithPrincipal(r.Context(), p), bind))
	noteCaller(r, p) // for the audit (audit.go)
	if p.Tenant == auth.DefaultTenant {
		leave, err := h.enterShare(r, p.Tenant)
		if err != nil {
			server.WriteError(w, r, connect.CodeCanceled, err.Error())
			return
		}
		r, leave = slotted(r, leave)
		defer leave()
		h.admitCall(r) // auditrefused.go
		h.def.ServeHTTP(w, r)
		return
	}
	t, code, err := h.tenant(p.Tenant)
	if errors.Is(err, errUnknown) {
		// Created since the last reload: knhk tenant create's token
		// works at once.
		if rerr := h.reload(); rerr == nil {
			t, code, err = h.tenant(p.Tenant)
		}
	}
	if err != nil {
		server.WriteError(w, r, code, err.Error())
		return
	}
	if strings.HasPrefix(r.URL.Path, auth.ServicePath) {
		if ok, wait := t.take(h.opts.Now()); !ok {
			// Hold the refusal until a call could pass (at most
			// refusalHold): a client that retries at once is slowed to
			// the tenant's rate per connection by the server itself,
			// at the cost of a sleeping goroutine, not of CPU.
			// The hint counts from the answer: what is left of the
			// caller's turn (quota.go) after the hold.
			held := min(wait, refusalHold)
			hold := time.NewTimer(held)
			select {
			case <-hold.C:
			case <-r.Context().Done():
				hold.Stop()
			}
			wait -= held
			h.share.refused(p.Tenant)
			w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
			w.Header().Set(RetryAfterMsHeader, strconv.FormatInt(wait.Milliseconds()+1, 10))
			server.WriteError(w, r, connect.CodeResourceExhausted, fmt.Sprintf("%v rate for tenant %s exceeded: retry in %v", ErrQuota, p.Tenant, wait.Round(time.Millisecond)))
			return
		}
	}
	release, err := t.enter(r)
	if err != nil {
		h.share.refused(p.Tenant)
		w.Header().Set(RetryAfterMsHeader, "10")
		server.WriteError(w, r, connect.CodeResourceExhausted, err.Error())
		return
	}
	leave, err := h.enterShare(r, p.Tenant)
	if err != nil {
		release()
		server.WriteError(w, r, connect.CodeCanceled, err.Error())
		return
	}
	gate := release
	release = func() { leave(); gate() } // the share's slot, then the gate's
	r, release = slotted(r, release)
	defer release()
	// Admitted: only now is its body read for the audit (auditrefused.go).
	h.admitCall(r)
	if t.group != nil {
		h.serveGroup(t, w, r)
		return
	}
	t.mux.ServeHTTP(w, r)
}

// slotted returns r carrying release when it is a start, and release
// made safe to run twice: a start that waits for its case gives its slot
// back once started, the wait being a long poll, which neither the
// in-flight gate nor the share counts.
func slotted(r *http.Request, release func()) (*http.Request, func()) {
	if !strings.HasSuffix(r.URL.Path, "/StartCase") {
		return r, release
	}
	release = sync.OnceFunc(release)
	return r.WithContext(server.WithSlotRelease(r.Context(), release)), release
}

// enterShare takes up r, a call of tenant, in the host's share of the
// server between tenants (share.go).
func (h *Host) enterShare(r *http.Request, tenant string) (func(), error) {
	if !shared(r.URL.Path) {
		return func() {}, nil
	}
	return h.share.enter(r.Context(), tenant)
}

// RetryAfterMsHeader is the header of a call refused for its tenant's
// rate saying in how many milliseconds the next call may pass (HTTP's
// Retry-After counts whole seconds).
const RetryAfterMsHeader = "Knhk-Retry-After-Ms"

// refusalHold bounds how long a call refused for its rate is held.
const refusalHold = 250 * time.Millisecond

var errUnknown = errors.New("does not exist")

// tenant returns the open tenant id, opening it on first use.
func (h *Host) tenant(id string) (*served, connect.Code, error) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, connect.CodeUnavailable, errors.New("the server is shutting down")
	}
	t := h.reg.Get(id)
	var q Quota
	var rev int
	if t != nil {
		q, rev = t.Quota, t.Revision
	}
	h.mu.Unlock()
	switch {
	case t == nil || t.State == Deleted:
		return nil, connect.CodeUnauthenticated, fmt.Errorf("tenant %s %w", id, errUnknown)
	case t.State == Suspended:
		return nil, connect.CodePermissionDenied, fmt.Errorf("tenant %s is suspended", id)
	}
	s, err := h.serve(id, q, rev)
	if err != nil {
		return nil, connect.CodeInternal, err
	}
	return s, 0, nil
}

// serve returns tenant id's Service and handlers, opening them when
// they are not open. Only the callers for id wait for its opening (the
// recovery of its data directory); other tenants' calls go on.
func (h *Host) serve(id string, q Quota, rev int) (*served, error) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, errors.New("the server is shutting down")
	}
	if s := h.open[id]; s != nil {
		h.mu.Unlock()
		<-s.ready
		if s.err != nil {
			return nil, s.err
		}
		return s, nil
	}
	s := &served{id: id, rev: rev, ready: make(chan struct{}), quota: q, bucket: newBucket(q, h.opts.Now()), gate: newGate(q)}
	h.open[id] = s
	prev := h.closing[id]
	h.mu.Unlock()
	if prev != nil {
		<-prev // its old Service still holds the directory
	}

	s.err = h.openTenant(id, s)
	close(s.ready)
	if s.err != nil {
		h.mu.Lock()
		if h.open[id] == s {
			delete(h.open, id) // the next call tries again
		}
		h.mu.Unlock()
		return nil, s.err
	}
	return s, nil
}

func (h *Host) openTenant(id string, s *served) error {
	s.cap = &runningCap{count: func() int {
		if s.group != nil {
			return s.group.Running()
		}
		return s.svc.Running() // O(1): kept as cases start and end
	}}
	s.cap.exact = h.opts.OpenGroup != nil
	s.cap.setMax(s.quota.MaxRunning)
	admit := func(string) (func(), error) { return s.cap.admit(id) }
	dir := DataDir(h.opts.Data, id)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if h.opts.OpenGroup != nil {
		g, err := h.opts.OpenGroup(id, dir, admit)
		if err != nil {
			return fmt.Errorf("tenant %s: %w", id, err)
		}
		s.group = g
		h.opts.Logf("tenant %s opened (raft group)", id)
		return nil
	}
	svc, err := h.opts.Open(id, dir, admit)
	if err != nil {
		return fmt.Errorf("tenant %s: %w", id, err)
	}
	s.svc = svc
	s.mux = server.NewMux(svc, server.MuxOptions{MaxBody: h.opts.MaxBody, Authorize: h.Authorizer(id)})
	console.Mount(s.mux, svc)
	if h.opts.Mount != nil {
		h.opts.Mount(id, svc, s.mux)
	}
	h.opts.Logf("tenant %s opened (%s)", id, dir)
	return nil
}

// close closes the tenant's Service or Group.
func (s *served) close(ctx context.Context) error {
	if s.group != nil {
		return s.group.Close(ctx)
	}
	return s.svc.Close(ctx)
}

func (h *Host) loop() {
	defer close(h.done)
	tick := time.NewTicker(h.opts.Reload)
	defer tick.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-tick.C:
			h.replay.sweep(h.opts.Now())
			h.sessions.sweep(h.opts.Now())
			if err := h.reload(); err != nil {
				h.opts.Logf("tenants: %v", err)
			}
			h.reloadRevocations()
		}
	}
}

// reload rereads the registry when it changed, closes and erases the
// tenants deleted since, and drops the rate state of tenants whose quota
// changed (they reopen on their next call).
func (h *Host) reload() error {
	h.reloading.Lock()
	defer h.reloading.Unlock()
	fi, err := os.Stat(registryPath(h.opts.Data))
	var mt time.Time
	if err == nil {
		mt = fi.ModTime()
	}
	h.mu.Lock()
	if h.reg != nil && mt.Equal(h.regTime) {
		h.mu.Unlock()
		return nil
	}
	reg, err := Load(h.opts.Data)
	if err != nil {
		h.mu.Unlock()
		return err
	}
	h.reg, h.regTime = reg, mt
	var gone []string
	var closing, reopen []*served
	for id, s := range h.open {
		t := reg.Get(id)
		switch {
		case t == nil || t.State == Deleted:
			gone = append(gone, id)
			closing = append(closing, s)
			delete(h.open, id)
		case t.Revision != s.rev:
			// Its keys or licence changed: close it, then open it
			// again with them.
			reopen = append(reopen, s)
			delete(h.open, id)
			h.closing[id] = make(chan struct{})
		default:
			s.setQuota(t.Quota, h.opts.Now())
		}
	}
	var opening []*Tenant
	for _, t := range reg.Tenants {
		if t.State == Deleted {
			gone = append(gone, t.ID)
		}
		if h.opts.OpenGroup != nil && t.State != Deleted && h.open[t.ID] == nil && h.closing[t.ID] == nil {
			opening = append(opening, t)
		}
	}
	h.mu.Unlock()
	for _, t := range opening {
		go func(id string, q Quota, rev int) {
			if _, err := h.serve(id, q, rev); err != nil {
				h.opts.Logf("%v", err)
			}
		}(t.ID, t.Quota, t.Revision)
	}
	for _, s := range closing {
		h.closeServed(s)
	}
	for _, s := range reopen {
		h.closeServed(s)
		h.mu.Lock()
		close(h.closing[s.id])
		delete(h.closing, s.id)
		t := h.reg.Get(s.id)
		h.mu.Unlock()
		if t != nil && t.State != Deleted {
			go func(id string, q Quota, rev int) {
				if _, err := h.serve(id, q, rev); err != nil {
					h.opts.Logf("%v", err)
				}
			}(t.ID, t.Quota, t.Revision)
		}
	}
	for _, id := range gone {
		if err := Erase(h.opts.Data, id); err != nil {
			h.opts.Logf("tenant %s: %v", id, err)
		}
	}
	return nil
}

// closeServed closes an open tenant's Service, waiting for its opening
// to end first.
func (h *Host) closeServed(s *served) {
	<-s.ready
	if s.err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.close(ctx); err != nil {
		h.opts.Logf("tenant %s: %v", s.id, err)
	}
	if h.opts.Closed != nil {
		h.opts.Closed(s.id)
	}
}

// Erase removes the directory of deleted tenant id unless a server has
// it open; it is a no-op once the directory is gone.
func Erase(data, id string) error {
	if err := CheckID(id); err != nil {
		return err
	}
	dir := DataDir(data, id)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if server.Running(dir) {
		return fmt.Errorf("a server has %s open; it erases it once it sees the tenant deleted", dir)
	}
	return os.RemoveAll(dirOf(data, id))
}

func dirOf(data, id string) string { return Dir(data) + string(os.PathSeparator) + id }

// Close closes every tenant's Service (not the default tenant's).
func (h *Host) Close(ctx context.Context) error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	open := h.open
	h.open = nil
	h.mu.Unlock()
	close(h.stop)
	<-h.done
	h.flushRefused() // auditrefused.go
	h.outcomes.Wait()
	var errs []error
	for id, s := range open {
		<-s.ready
		if s.err != nil {
			continue
		}
		if err := s.close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("tenant %s: %w", id, err))
		}
		if h.opts.Closed != nil {
			h.opts.Closed(id)
		}
	}
	return errors.Join(errs...)
}
