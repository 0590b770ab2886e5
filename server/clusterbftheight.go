// This file implements read-your-writes through a validator that
// forwards: the driver stamps its answer to a write with the height its
// validator had applied, and the forwarding validator answers only once
// it has applied that block too, so that the client's next read on it
// sees the write.

package server

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// heightHeader carries the driver's applied height on a write's answer.
const heightHeader = "Knhk-Bft-Height"

// heightWriter sets heightHeader when the answer's header is written.
type heightWriter struct {
	http.ResponseWriter
	height func() int64
	done   bool
}

func (h *heightWriter) stamp() {
	if !h.done {
		h.done = true
		h.Header().Set(heightHeader, strconv.FormatInt(h.height(), 10))
	}
}

func (h *heightWriter) WriteHeader(code int) {
	h.stamp()
	h.ResponseWriter.WriteHeader(code)
}

func (h *heightWriter) Write(b []byte) (int, error) {
	h.stamp()
	return h.ResponseWriter.Write(b)
}

func (h *heightWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }

// stamped returns w stamping the validator's applied height.
func (a *BFTAPI) stamped(w http.ResponseWriter) http.ResponseWriter {
	return &heightWriter{ResponseWriter: w, height: a.app.Height}
}

// maxAwait bounds how long a forwarding validator waits to apply the
// driver's block: a validator that far behind answers anyway.
const maxAwait = 30 * time.Second

// await waits until this validator has applied height (a heightHeader
// value), ctx ends or maxAwait passes.
func (a *BFTAPI) await(ctx context.Context, height string) {
	h, err := strconv.ParseInt(height, 10, 64)
	if err != nil {
		return
	}
	deadline := time.Now().Add(maxAwait)
	for a.app.Height() < h && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Millisecond):
		}
	}
}
