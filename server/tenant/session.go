// This file implements the console's sessions. A knhk token (~4.6 KB) is
// too big for a browser cookie, and a token kept in a script-readable
// cookie is open to any script on the page; so the login page posts the
// token once (POST /console/api/login), the server verifies it and
// answers with a short random session id in an HttpOnly, SameSite=Strict
// cookie (Secure over TLS), kept in memory and mapped to the verified
// principal until the token's expiry. POST /console/api/logout forgets
// it. A revoked token's sessions are refused like the token (revoke.go).

package tenant

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"

	"github.com/knhk/knhk/server"
	"github.com/knhk/knhk/server/auth"
)

// The console's session routes and cookie.
const (
	LoginPath     = "/console/api/login"
	LogoutPath    = "/console/api/logout"
	SessionCookie = "knhk-session"
)

const (
	// sessionTTL bounds a session of a credential without an expiry
	// (the static token).
	sessionTTL = 12 * time.Hour
	// maxSessions bounds the sessions kept; the oldest to expire go first.
	maxSessions = 10000
	// maxLoginBody bounds a login's body (a knhk token is at most ~6 KB).
	maxLoginBody = 16 << 10
)

// sessions maps session ids to the principals they were opened for.
type sessions struct {
	mu sync.Mutex
	m  map[string]session
}

type session struct {
	p     auth.Principal
	until time.Time
}

// newSessionID returns 32 random bytes, base64url: 43 characters.
func newSessionID() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (s *sessions) open(p auth.Principal, now time.Time) (string, time.Time) {
	until := now.Add(sessionTTL)
	if !p.Expires.IsZero() {
		until = p.Expires
	}
	id := newSessionID()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]session{}
	}
	if len(s.m) >= maxSessions {
		s.sweepLocked(now)
		for len(s.m) >= maxSessions { // drop the one that expires first
			first := ""
			for k, v := range s.m {
				if first == "" || v.until.Before(s.m[first].until) {
					first = k
				}
			}
			delete(s.m, first)
		}
	}
	s.m[id] = session{p, until}
	return id, until
}

// get returns the principal of session id while it lasts.
func (s *sessions) get(id string, now time.Time) (auth.Principal, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[id]
	if !ok {
		return auth.Principal{}, false
	}
	if !now.Before(e.until) {
		delete(s.m, id)
		return auth.Principal{}, false
	}
	return e.p, true
}

func (s *sessions) close(id string) {
	s.mu.Lock()
	delete(s.m, id)
	s.mu.Unlock()
}

func (s *sessions) sweep(now time.Time) {
	s.mu.Lock()
	s.sweepLocked(now)
	s.mu.Unlock()
}

func (s *sessions) sweepLocked(now time.Time) {
	for k, v := range s.m {
		if !now.Before(v.until) {
			delete(s.m, k)
		}
	}
}

// errNoSession is the refusal of a session cookie the server does not
// know (expired, logged out, or from before a restart).
var errNoSession = errors.New("the console session has expired or was signed out: sign in again")

// sessionPrincipal returns the principal of r's session cookie, or
// errNoSession when r has none the server knows.
func (h *Host) sessionPrincipal(r *http.Request) (auth.Principal, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return auth.Principal{}, errNoSession
	}
	p, found := h.sessions.get(c.Value, h.opts.Now())
	if !found {
		return p, errNoSession
	}
	return p, nil
}

// loginRequest is the body of POST /console/api/login.
type loginRequest struct {
	Token string `json:"token"`
}

// loginView answers a login: who signed in, until when.
type loginView struct {
	Tenant  string `json:"tenant"`
	Subject string `json:"subject"`
	Role    string `json:"role"`
	Expires string `json:"expires"`
}

// login verifies the posted token like a bearer token (signature,
// revocation, one-time use, the tenant's standing) and opens a session.
func (h *Host) login(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		server.WriteError(w, r, connect.CodeInvalidArgument, "login wants POST with {\"token\": …}")
		return
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxLoginBody))
	if err != nil {
		server.WriteError(w, r, connect.CodeInvalidArgument, fmt.Sprintf("login body: %v", err))
		return
	}
	var req loginRequest
	if err := json.Unmarshal(b, &req); err != nil || strings.TrimSpace(req.Token) == "" {
		server.WriteError(w, r, connect.CodeInvalidArgument, "login wants a JSON body {\"token\": \"…\"} with the token")
		return
	}
	now := h.opts.Now()
	p, err := h.tokens.verify(h.opts.Verifier, strings.TrimSpace(req.Token), now) // and its revocation
	if err == nil {
		_, err = h.replay.check(r, p, auth.RoleViewer, h.opts.MaxBody, now)
	}
	if err != nil {
		server.WriteError(w, r, connect.CodeUnauthenticated, err.Error())
		return
	}
	if p.Tenant != auth.DefaultTenant {
		if _, code, err := h.tenant(p.Tenant); err != nil {
			server.WriteError(w, r, code, err.Error())
			return
		}
	}
	noteCaller(r, p) // the audit records who signed in (audit.go)
	p.Once = false   // the session outlives the one call a one-time token was good for
	id, until := h.sessions.open(p, now)
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: id, Path: "/", Expires: until,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(loginView{Tenant: p.Tenant, Subject: p.Subject, Role: p.Role.String(), Expires: until.UTC().Format(time.RFC3339)})
}

// logout forgets the caller's session and clears its cookie.
func (h *Host) logout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		server.WriteError(w, r, connect.CodeInvalidArgument, "logout wants POST")
		return
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		if p, err := h.sessionPrincipal(r); err == nil {
			noteCaller(r, p) // the audit records who signed out
		}
		h.sessions.close(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	w.WriteHeader(http.StatusNoContent)
}
