// This file implements WorkTasks on a cluster node: the leader serves a
// worker's stream over its broker as a single knhk serve does, and a
// follower passes the stream through to the leader, so that Go workers
// keep their steady state of two small messages per task on a cluster
// too instead of going back to one call per task. The stream lives as
// long as the leadership it was opened under: when the leader's broker
// closes (it stops leading), or a follower sees the leader change, the
// stream ends with Unavailable; the worker reports the outcomes not yet
// acknowledged by the plain calls (refused when the old leader had
// applied them, so nothing is applied twice) and opens a stream again,
// which reaches the new leader. The new leader delivers again, with the
// same ids, the attempts whose outcomes it has not committed, so
// nothing is lost.

package server

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"connectrpc.com/connect"

	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
)

// WorkTasks serves a worker's stream on the leader; on a follower it
// is passed through before it gets here (workTasksRoute).
func (r *clusterRPC) WorkTasks(ctx context.Context, st *workStream) error {
	b, err := r.broker()
	if err != nil {
		return err
	}
	// The stream ends when the broker does: the node stopped leading.
	stop, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-b.Done():
			cancel()
		case <-stop.Done():
		}
	}()
	if err := serveWork(ctx, stop, b, st); err != nil {
		return err
	}
	select {
	case <-b.Done():
		return connect.NewError(connect.CodeUnavailable, fmt.Errorf("node %s stopped leading; open the stream again (it reaches the new leader)", r.a.n.ID()))
	default:
		return nil
	}
}

// workTasksRoute serves the WorkTasks stream: on the leader with its
// own handler, which bounds each message by MaxBody (the stream as a
// whole lives as long as the worker), and from a follower through to
// the leader (forwardStream).
func (a *ClusterAPI) workTasksRoute(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor >= 2 && !a.n.IsLeader() {
		a.forwardStream(w, r)
		return
	}
	// A stream over HTTP/1.1 is refused by the handler, as on a single
	// server.
	h := connect.NewBidiStreamHandler(knhkv1connect.KnhkServiceWorkTasksProcedure, (&clusterRPC{a: a}).WorkTasks,
		connect.WithReadMaxBytes(int(a.MaxBody)), streamCompression())
	h.ServeHTTP(w, r)
}

// leaderWatch is how often a follower passing a stream through checks
// that the leader it reaches still leads.
const leaderWatch = 100 * time.Millisecond

// forwardStream passes a worker's stream through to the leader over
// HTTP/2 (cleartext for an http:// API, as the worker's own), message
// by message as they come each way, and ends it when the leader
// changes: the worker then opens it again and reaches the new leader.
// A stream forwarded already is not forwarded again.
func (a *ClusterAPI) forwardStream(w http.ResponseWriter, r *http.Request) {
	leader, api := a.n.Leader()
	if api == "" || r.Header.Get(ForwardedByHeader) != "" {
		WriteError(w, r, connect.CodeUnavailable, a.n.NotLeader().Error())
		return
	}
	c, t := streamClientOf(a.client)
	defer t.CloseIdleConnections()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		tick := time.NewTicker(leaderWatch)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if id, _ := a.n.Leader(); id != leader {
					cancel()
					return
				}
			}
		}
	}()
	req, err := forwardedRequest(ctx, r, api, a.n.ID(), a.vouch)
	if err != nil {
		WriteError(w, r, connect.CodeInternal, err.Error())
		return
	}
	resp, err := c.Do(req)
	if err != nil {
		WriteError(w, r, connect.CodeUnavailable, fmt.Sprintf("the leader %s cannot be reached: %v", leader, err))
		return
	}
	defer resp.Body.Close()
	relay(w, resp)
	// gRPC ends a stream with trailers; Connect in its last message.
	for k, vs := range resp.Trailer {
		for _, v := range vs {
			w.Header().Add(http.TrailerPrefix+k, v)
		}
	}
}

// streamClientOf returns an HTTP/2 client like c (its TLS settings and
// token) for one forwarded stream, and its transport, to be closed
// when the stream ends: c itself may speak HTTP/1.1, which cannot
// carry a stream both ways.
func streamClientOf(c *http.Client) (*http.Client, *http.Transport) {
	rt, token := c.Transport, ""
	if bt, ok := rt.(bearerTransport); ok {
		rt, token = bt.base, bt.token
	}
	base, ok := rt.(*http.Transport)
	if !ok {
		base = http.DefaultTransport.(*http.Transport)
	}
	t := base.Clone()
	t.Protocols = new(http.Protocols)
	t.Protocols.SetHTTP2(true)
	t.Protocols.SetUnencryptedHTTP2(true)
	// A leader that vanished without closing the connection is noticed
	// by the leader watch; the pings end a stream it cannot notice.
	t.HTTP2 = &http.HTTP2Config{SendPingTimeout: 30 * time.Second, PingTimeout: 15 * time.Second}
	var out http.RoundTripper = t
	if token != "" {
		out = bearerTransport{base: t, token: token}
	}
	return &http.Client{Transport: out}, t
}
