// This file implements the bearer token and TLS of a cluster node's API
// (knhk serve --node --tls-cert --tls-key --token-file): the same
// constant-time check and 401 answer as a single knhk serve (Mux.guard),
// and the client a node calls other nodes with, which trusts their
// certificates and carries the token.

package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/knhk/knhk/runtime/cluster"
)

// ClusterSecurity protects a node's API and says how a node calls the
// others: every node of a cluster is given the same token, and each
// trusts RootCAs for the others' certificates.
type ClusterSecurity struct {
	// Token, when not empty, is the bearer token every call but the
	// probes (/healthz, /readyz) and the console's static pages must carry.
	Token string
	// RootCAs verify the other nodes' certificates (nil: the system's).
	RootCAs *x509.CertPool
	// VouchToken, when not empty, is the nodes' token with which the
	// node vouches for the client address of a call it forwards
	// (forwardvouch.go); Token when empty. A tenant group's API checks
	// no token itself (the tenant front did) but vouches with it.
	VouchToken string
}

// vouchKey is the key that vouches for the calls the node forwards.
func (s ClusterSecurity) vouchKey() []byte {
	if s.VouchToken != "" {
		return ForwardKey(s.VouchToken)
	}
	return ForwardKey(s.Token)
}

// Client returns the client a node calls other nodes with (a forwarded
// call, a join, a probe): it trusts RootCAs and sends the token on a
// request that carries no Authorization of its own (a forwarded call
// keeps its caller's).
func (s ClusterSecurity) Client() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: s.RootCAs, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: bearerTransport{base: t, token: s.Token}}
}

type bearerTransport struct {
	base  http.RoundTripper
	token string
}

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if b.token != "" && r.Header.Get("Authorization") == "" {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+b.token)
	}
	return b.base.RoundTrip(r)
}

// Prober returns the cluster.Prober of a node whose peers' APIs need
// the token and TLS: it reads a member's applied index from its status.
func (s ClusterSecurity) Prober() cluster.Prober {
	return s.StatusProber(cluster.StatusPath+"?local=1", "")
}

// StatusProber returns a cluster.Prober that reads a member's applied
// index from the [cluster.Status] its API serves at path, with s's
// client (the token, TLS); what, when not empty, names what path is the
// status of in an error (a tenant group's, say).
func (s ClusterSecurity) StatusProber(path, what string) cluster.Prober {
	return statusProber{c: s.Client(), path: path, what: what}
}

type statusProber struct {
	c          *http.Client
	path, what string
}

func (p statusProber) Applied(ctx context.Context, m cluster.Member) (uint64, error) {
	st, err := p.Status(ctx, m)
	if err != nil {
		return 0, err
	}
	return st.Applied, nil
}

// Status reads member m's status (cluster.StatusProber): an erasure
// waits for each member to destroy its keys of the erased cases.
func (p statusProber) Status(ctx context.Context, m cluster.Member) (*cluster.Status, error) {
	if m.API == "" {
		return nil, fmt.Errorf("member %s has no API address", m.ID)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, apiBase(m.API)+p.path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := p.c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		if p.what != "" {
			return nil, fmt.Errorf("member %s, %s: status %s", m.ID, p.what, resp.Status)
		}
		return nil, fmt.Errorf("member %s: status %s", m.ID, resp.Status)
	}
	var st cluster.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, err
	}
	return &st, nil
}

// Secure puts the node's API behind s.Token and makes the node forward
// with s's client, vouched for with s's token. Call it before serving.
func (a *ClusterAPI) Secure(s ClusterSecurity) {
	a.client = s.Client()
	a.vouch = s.vouchKey()
	if s.Token == "" {
		a.guard = nil
		return
	}
	// The single-node check, body limit aside (ServeHTTP applies MaxBody).
	a.guard = (&Mux{opts: MuxOptions{Token: s.Token, MaxBody: math.MaxInt64}}).guard(a.mux)
}

// Secure puts the validator's API behind s.Token (every route: it serves
// no probes or console) and makes it forward writes with s's client.
func (a *BFTAPI) Secure(s ClusterSecurity) {
	c := s.Client()
	c.Timeout = a.client.Timeout
	a.client = c
	a.vouch = s.vouchKey()
	a.guard = nil
	if s.Token != "" {
		a.guard = (&Mux{opts: MuxOptions{Token: s.Token, MaxBody: math.MaxInt64}}).guard(a.mux)
	}
}

// route serves r, through the token check unless its route is public.
func (a *ClusterAPI) route(w http.ResponseWriter, r *http.Request) {
	if a.guard != nil {
		if _, pattern := a.mux.Handler(r); !a.public[pattern] {
			a.guard.ServeHTTP(w, r)
			return
		}
	}
	a.mux.ServeHTTP(w, r)
}

// handlePublic mounts h on pattern outside the token check.
func (a *ClusterAPI) handlePublic(pattern string, h http.Handler) {
	if a.public == nil {
		a.public = map[string]bool{}
	}
	a.public[pattern] = true
	a.mux.Handle(pattern, h)
}
