// This file implements oneWrite: the HTTP client under every Client,
// which sends a small unary request as one write instead of two.

package client

import (
	"bytes"
	"io"
	"net/http"

	"connectrpc.com/connect"
)

// maxOneWrite is the largest request body oneWrite sends from memory:
// every worker call and most others are far smaller.
const maxOneWrite = 64 << 10

// oneWrite sends each request of known, small length with its body in
// memory. net/http flushes the headers of a request on their own before
// copying a body it does not know to be in memory, and Connect's unary
// body is its own type: every call cost the client two writes and the
// server, often, two reads. With the body a bytes.Reader, headers and
// body leave in one write. Streams (unknown length) pass unchanged.
// A worker's WorkTasks stream goes to stream, when set (stream.go).
type oneWrite struct{ next, stream connect.HTTPClient }

func (o oneWrite) Do(r *http.Request) (*http.Response, error) {
	if o.stream != nil && isWorkStream(r) {
		return o.stream.Do(r)
	}
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength <= 0 || r.ContentLength > maxOneWrite {
		return o.next.Do(r)
	}
	b := make([]byte, r.ContentLength)
	_, err := io.ReadFull(r.Body, b)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	c := *r // the caller's request is not changed (http.RoundTripper's rule)
	c.Body = io.NopCloser(bytes.NewReader(b))
	c.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	return o.next.Do(&c)
}
