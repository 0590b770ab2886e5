// This file implements request dispatch: notifications and lifecycle
// requests in order on the read loop, read requests concurrently on views,
// and $/cancelRequest.

package server

import (
	"context"
	"sync"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
)

// ordered lists the requests that change the server's state and so run on
// the read loop, in arrival order, like every notification (didOpen,
// didChange, ...). Every other request only reads: it runs concurrently.
var ordered = map[string]bool{
	protocol.MethodInitialize: true,
	protocol.MethodShutdown:   true,
}

// viewKey is the context key of a request's view.
type viewKey struct{}

// viewFor returns the view a request runs on: the one taken when it
// arrived, or, for a direct call without one, the current state.
func (s *Server) viewFor(ctx context.Context) *view {
	if v, ok := ctx.Value(viewKey{}).(*view); ok && v.Server == s {
		return v
	}
	return s.newView()
}

// inflight tracks the cancel functions of running read requests by id.
type inflight struct {
	mu      sync.Mutex
	cancels map[jsonrpc2.ID]context.CancelFunc
	wg      sync.WaitGroup // running request goroutines
	answers answers        // concurrent requests not yet answered on the wire
}

func (f *inflight) add(id jsonrpc2.ID, cancel context.CancelFunc) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cancels == nil {
		f.cancels = make(map[jsonrpc2.ID]context.CancelFunc)
	}
	f.cancels[id] = cancel
}

func (f *inflight) remove(id jsonrpc2.ID) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.cancels, id)
}

// cancel cancels the request with the given id, if it is still running.
func (f *inflight) cancel(id jsonrpc2.ID) {
	f.mu.Lock()
	c := f.cancels[id]
	f.mu.Unlock()
	if c != nil {
		c()
	}
}

// errCancelled is the answer to a request the client cancelled.
var errCancelled = jsonrpc2.NewError(protocol.CodeRequestCancelled, "request cancelled")

// dispatch is the connection's handler. It runs on the read loop: it
// refuses messages the lifecycle does not allow, handles $/cancelRequest,
// runs notifications and ordered requests at once, and releases every
// other request to run concurrently on a view of the state as it arrived,
// so that a slow request on a large file blocks neither edits nor other
// requests. A cancelled request is answered with RequestCancelled at once;
// its work, if any is left, finishes in the background and is discarded
// (the analysis it computed stays cached for the next request).
func (s *Server) dispatch(h jsonrpc2.Handler) jsonrpc2.Handler {
	h = s.recoverHandler(h)
	return func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		if err := s.lifecycle(req.Method()); err != nil {
			if !req.IsCall() {
				return nil, nil // dropped, as the specification says
			}
			return nil, err
		}
		if req.Method() == protocol.MethodCancelRequest {
			s.cancelRequest(req)
			return nil, nil
		}
		if !req.IsCall() || ordered[req.Method()] {
			return h(ctx, req)
		}
		v := s.newView()
		rq := req.Clone()
		s.requests.answers.expect(rq.ID())
		// Register the request's cancel before releasing the read loop: a
		// $/cancelRequest right behind it must find it.
		rctx, cancel := context.WithCancel(context.WithValue(s.base, viewKey{}, v))
		defer cancel()
		s.requests.add(rq.ID(), cancel)
		defer s.requests.remove(rq.ID())
		jsonrpc2.Async(ctx) // the read loop goes on to the next message
		type answer struct {
			result any
			err    error
		}
		done := make(chan answer, 1)
		s.requests.wg.Add(1)
		go func() {
			defer s.requests.wg.Done()
			if s.testHook != nil {
				s.testHook(rctx, rq)
			}
			r, err := h(rctx, rq)
			done <- answer{r, err}
		}()
		select {
		case a := <-done:
			if rctx.Err() != nil && a.err != nil {
				return nil, errCancelled
			}
			return a.result, a.err
		case <-rctx.Done():
			return nil, errCancelled
		}
	}
}

// cancelRequest handles $/cancelRequest.
func (s *Server) cancelRequest(req *jsonrpc2.Request) {
	var p protocol.CancelParams
	if err := protocol.Unmarshal(req.Params(), &p); err != nil {
		s.logf("$/cancelRequest: %v", err)
		return
	}
	switch id := p.ID.(type) {
	case protocol.Integer:
		s.requests.cancel(jsonrpc2.NewNumberID(int64(id)))
	case protocol.String:
		s.requests.cancel(jsonrpc2.NewStringID(string(id)))
	default:
		s.logf("$/cancelRequest: malformed id %v", p.ID)
	}
}
