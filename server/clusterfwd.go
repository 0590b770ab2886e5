// This file implements forwarding: a follower passes a call that only
// the leader answers to the leader's API, once, and answers what it
// answered; a call that was forwarded already is not forwarded again.

package server

import (
	"context"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/knhk/knhk/runtime/cluster"
)

// ForwardedByHeader marks a call a node forwarded to the leader (or to
// the driver) with the forwarding node's id: a call that carries it is
// not forwarded again. That check needs no vouch (forwardvouch.go): a
// client that sets the header itself only has its own call answered
// "not the leader" here, and a forwarded call whose vouch failed must
// still not travel on, or two nodes that each think the other leads
// would pass it back and forth.
const ForwardedByHeader = "Knhk-Forwarded-By"

// ForwardedForHeader carries, on a forwarded call, the address of the
// client the forwarding node received it from: the leader's audit
// record says where the call came from, not only which node passed it,
// when ForwardedVouchHeader vouches for it.
const ForwardedForHeader = "Knhk-Forwarded-For"

// leaderOnly runs h on the leader and forwards the call from a follower.
func (a *ClusterAPI) leaderOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if a.n.IsLeader() {
			h(w, r)
			return
		}
		a.forward(w, r)
	}
}

func (a *ClusterAPI) forward(w http.ResponseWriter, r *http.Request) {
	_, nl := a.n.Leader()
	err := a.n.NotLeader()
	if nl == "" || r.Header.Get(ForwardedByHeader) != "" || r.URL.Query().Get("redirect") == "1" {
		if nl != "" && r.URL.Query().Get("redirect") == "1" {
			http.Redirect(w, r, apiBase(nl)+r.URL.RequestURI(), http.StatusTemporaryRedirect)
			return
		}
		fail(w, err)
		return
	}
	req, rerr := forwardedRequest(r.Context(), r, nl, a.n.ID(), a.vouch)
	if rerr != nil {
		fail(w, rerr)
		return
	}
	resp, rerr := a.client.Do(req)
	if rerr != nil {
		fail(w, err) // the leader is unreachable: say who it is
		return
	}
	defer resp.Body.Close()
	relay(w, resp)
}

// forwardedRequest is r, under ctx, addressed to the API at api and
// marked as forwarded by the node by for r's client, vouched for with
// key (forwardvouch.go).
func forwardedRequest(ctx context.Context, r *http.Request, api, by string, key []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, r.Method, apiBase(api)+r.URL.RequestURI(), r.Body)
	if err != nil {
		return nil, err
	}
	req.Header = r.Header.Clone()
	VouchForwarded(req.Header, key, by, r.RemoteAddr, req.Method, req.URL.Path, time.Now())
	cluster.AuditForwarded(r.Context()) // the leader's front records it
	return req, nil
}

// relay answers w with resp, the answer to a forwarded call: its
// header, its status and its body, flushed as it comes.
func relay(w http.ResponseWriter, resp *http.Response) {
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	copyFlushing(w, resp.Body)
}

// copyFlushing copies the leader's answer as it comes, flushing each
// piece, so that a stream (WatchHistory) reaches the client through a
// follower entry by entry rather than when it ends.
func copyFlushing(w http.ResponseWriter, body io.Reader) {
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			rc.Flush()
		}
		if err != nil {
			return
		}
	}
}

// apiBase is the base URL, with no final slash, of the API at addr (a
// URL, or host:port for http).
func apiBase(addr string) string {
	addr = strings.TrimSuffix(addr, "/")
	if strings.HasPrefix(addr, "http://") || strings.HasPrefix(addr, "https://") {
		return addr
	}
	return "http://" + addr
}
