// This file implements the HTTP client of a worker's WorkTasks stream,
// which needs HTTP/2: over http:// URLs that is HTTP/2 cleartext
// (h2c, which knhk serve speaks), through a transport of its own, since
// the unary calls stay on HTTP/1.1, which costs less per call.

package client

import (
	"net/http"
	"strings"
	"time"

	"connectrpc.com/connect"

	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
)

// WithStreamHTTPClient uses h for the WorkTasks stream of
// client/worker (h must do HTTP/2). Without it, a Client of an http://
// URL opens its streams over HTTP/2 cleartext on a transport of its
// own, and one of an https:// URL uses its HTTP client, which
// negotiates HTTP/2 by itself. A worker whose stream cannot be opened
// goes back to the unary calls.
func WithStreamHTTPClient(h connect.HTTPClient) Option { return func(c *config) { c.stream = h } }

// defaultH2C is the stream client for http:// URLs: HTTP/2 cleartext
// with prior knowledge, many streams on one connection.
// A connection that goes quiet for 30 s is pinged, and dropped when
// the ping goes unanswered for 15 s: a stream waiting for tasks on a
// server that vanished without closing the connection then breaks, and
// the worker opens another, instead of waiting forever.
var defaultH2C = &http.Client{Transport: func() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Protocols = new(http.Protocols)
	t.Protocols.SetUnencryptedHTTP2(true)
	t.HTTP2 = &http.HTTP2Config{SendPingTimeout: 30 * time.Second, PingTimeout: 15 * time.Second}
	return t
}()}

// streamClient is the client for baseURL's streams given cfg.
func streamClient(baseURL string, cfg config) connect.HTTPClient {
	switch {
	case cfg.stream != nil:
		return cfg.stream
	case strings.HasPrefix(baseURL, "http://"):
		return defaultH2C
	}
	return nil
}

// isWorkStream says whether r is a WorkTasks call.
func isWorkStream(r *http.Request) bool {
	return strings.HasSuffix(r.URL.Path, knhkv1connect.KnhkServiceWorkTasksProcedure)
}
