// This file implements Server, its options and the connection loop.

package server

import (
	"context"
	"errors"
	"io"
	"log"
	"sync"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lsp/mapper"
)

// FormatFunc formats a whole file; lang/format.Bytes has this signature.
type FormatFunc func(name string, src []byte) ([]byte, source.Diagnostics)

// Options configures a [Server].
type Options struct {
	// Format formats documents; nil disables formatting.
	Format FormatFunc
	// Debounce is how long diagnostics wait after a change before they are
	// computed, so that typing does not check every keystroke. Zero means
	// an adaptive delay (as long as the last check took, from 10 to 50 ms);
	// a negative value means no delay.
	Debounce time.Duration
	// Logf logs server-side problems; nil discards them.
	Logf func(format string, args ...any)
}

// Server is the state of one language-server connection.
type Server struct {
	protocol.UnimplementedServer

	opts   Options
	client protocol.Client // nil until Serve starts

	mu          sync.Mutex
	enc         mapper.Encoding
	roots       []string              // workspace folders, as file paths
	docs        map[uri.URI]*document // open documents
	gen         int                   // bumped on every change to any document
	initialized bool                  // initialize was answered
	shutdown    bool                  // shutdown was received

	base     context.Context // the connection's context, parent of every request's
	requests inflight        // running read requests
	cache    analysisCache   // latest analysis of each open document
	// testHook, when set by a test, runs before each concurrent request,
	// on its goroutine and with its context: a test makes a request slow.
	testHook func(ctx context.Context, req *jsonrpc2.Request)

	diag      diagnoser
	exit      chan struct{}
	exitOnce  sync.Once
	closeOnce sync.Once
}

// New returns a server with the given options.
func New(opts Options) *Server {
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	s := &Server{opts: opts, docs: make(map[uri.URI]*document), exit: make(chan struct{})}
	s.diag.init(s)
	return s
}

// Serve runs the server on one connection, reading LSP messages (with
// Content-Length framing) from in and writing to out, until the client
// sends exit, the input ends, or ctx is cancelled. Malformed messages are
// answered with a JSON-RPC error and the server keeps reading.
func (s *Server) Serve(ctx context.Context, in io.Reader, out io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.base = ctx
	stream := newResilientStream(&pipe{r: in, w: out}, s.opts.Logf)
	stream.answers = &s.requests.answers
	conn := jsonrpc2.NewConn(stream, jsonrpc2.WithCodec(codec{}))
	s.client = protocol.ClientDispatcher(conn)
	// Not protocol.CancelHandler: its context.WithCancel over jsonrpc2's
	// pooled request contexts races with their reuse. dispatch derives
	// request contexts from the connection's instead.
	handler := s.dispatch(protocol.ServerHandler(s, jsonrpc2.MethodNotFoundHandler))
	conn.Go(ctx, handler)
	var err error
	select {
	case <-conn.Done():
		err = conn.Err()
	case <-s.exit:
		s.mu.Lock()
		if !s.shutdown {
			err = ErrExitWithoutShutdown
		}
		s.mu.Unlock()
	case <-ctx.Done():
		err = ctx.Err()
	}
	cancel()
	s.diag.stop()
	s.requests.wg.Wait()
	stream.Close()
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe) || errors.Is(err, jsonrpc2.ErrServerClosing) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = nil
	}
	return err
}

// recoverHandler turns a panic in a handler (a bug, perhaps in the checker)
// into a JSON-RPC internal error so that one bad request does not end the
// editor session.
func (s *Server) recoverHandler(h jsonrpc2.Handler) jsonrpc2.Handler {
	return func(ctx context.Context, req *jsonrpc2.Request) (result any, err error) {
		defer func() {
			if r := recover(); r != nil {
				s.opts.Logf("panic in %s: %v", req.Method(), r)
				result, err = nil, jsonrpc2.NewError(jsonrpc2.InternalError, "internal error in "+req.Method())
			}
		}()
		result, err = h(ctx, req)
		if err != nil && !req.IsCall() {
			// jsonrpc2 ends the connection when a notification handler
			// fails; for a language server a bad notification (an unknown
			// method, a change to an unopened file) is only worth a log line.
			s.opts.Logf("%s: %v", req.Method(), err)
			return nil, nil
		}
		return result, err
	}
}

// pipe joins a reader and a writer into the io.ReadWriteCloser that the
// JSON-RPC stream wants. Close closes whichever of them can be closed.
type pipe struct {
	r io.Reader
	w io.Writer
}

func (p *pipe) Read(b []byte) (int, error)  { return p.r.Read(b) }
func (p *pipe) Write(b []byte) (int, error) { return p.w.Write(b) }
func (p *pipe) Close() error {
	var err error
	if c, ok := p.r.(io.Closer); ok {
		err = c.Close()
	}
	if c, ok := p.w.(io.Closer); ok && any(p.w) != any(p.r) {
		if e := c.Close(); err == nil {
			err = e
		}
	}
	return err
}

// logf is a convenience for Options.Logf.
func (s *Server) logf(format string, args ...any) { s.opts.Logf(format, args...) }

// StderrLogf logs to the standard logger, for the stdio command.
func StderrLogf(format string, args ...any) { log.Printf("knhk lsp: "+format, args...) }

// ErrExitWithoutShutdown is returned by Serve when the client sent exit
// without shutdown first; "knhk lsp" then exits with status 1, as the
// specification asks.
var ErrExitWithoutShutdown = errors.New("exit notification before shutdown")

// lifecycle refuses messages that come before initialize or after
// shutdown (other than exit).
func (s *Server) lifecycle(method string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case method == "exit" || method == "initialize" && !s.initialized:
		return nil
	case !s.initialized:
		return jsonrpc2.NewError(jsonrpc2.ServerNotInitialized, "the server is not initialized")
	case s.shutdown:
		return jsonrpc2.NewError(jsonrpc2.InvalidRequest, "the server is shut down")
	case method == "initialize":
		return jsonrpc2.NewError(jsonrpc2.InvalidRequest, "the server is already initialized")
	}
	return nil
}
