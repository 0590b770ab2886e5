// Package client is the Go client of knhk serve: a thin layer over the
// generated Connect client of api/knhk/v1 that adds the bearer token,
// waits that span several long polls, and the error detail that names a
// bad request's field.
package client

import (
	"context"
	"errors"
	"net/http"
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
)

// Client talks to one knhk serve.
type Client struct {
	api knhkv1connect.KnhkServiceClient
}

// Option configures New.
type Option func(*config)

type config struct {
	http    connect.HTTPClient
	stream  connect.HTTPClient // WorkTasks (stream.go)
	token   string
	grpc    bool
	grpcWeb bool
}

// WithToken sends token as the bearer token of every call (knhk serve
// --token-file).
func WithToken(token string) Option { return func(c *config) { c.token = token } }

// WithHTTPClient uses h instead of the default client (see New).
func WithHTTPClient(h connect.HTTPClient) Option { return func(c *config) { c.http = h } }

// WithGRPC speaks gRPC instead of the Connect protocol (h must then do
// HTTP/2).
func WithGRPC() Option { return func(c *config) { c.grpc = true } }

// WithGRPCWeb speaks gRPC-Web instead of the Connect protocol.
func WithGRPCWeb() Option { return func(c *config) { c.grpcWeb = true } }

// defaultHTTP is the HTTP client of a Client made without
// WithHTTPClient: http.DefaultClient's transport keeps only 2 idle
// connections per server, so a worker with more slots, or an
// application with more calls in flight, dialled a new connection for
// most calls.
var defaultHTTP = &http.Client{Transport: func() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 256
	return t
}()}

// New returns a client of the server at baseURL (http://127.0.0.1:7233).
// Without WithHTTPClient it keeps up to 256 idle connections to the
// server for the calls in flight to reuse.
func New(baseURL string, opts ...Option) *Client {
	cfg := config{http: defaultHTTP}
	for _, o := range opts {
		o(&cfg)
	}
	var copts []connect.ClientOption
	if cfg.token != "" {
		copts = append(copts, connect.WithInterceptors(bearer(cfg.token)))
	}
	if cfg.grpc {
		copts = append(copts, connect.WithGRPC())
	}
	if cfg.grpcWeb {
		copts = append(copts, connect.WithGRPCWeb())
	}
	return &Client{api: knhkv1connect.NewKnhkServiceClient(oneWrite{next: cfg.http, stream: streamClient(baseURL, cfg)}, baseURL, copts...)}
}

// API returns the generated client, for calls this package does not wrap.
func (c *Client) API() knhkv1connect.KnhkServiceClient { return c.api }

type bearerInterceptor string

func bearer(token string) connect.Interceptor { return bearerInterceptor(token) }

func (b bearerInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, r connect.AnyRequest) (connect.AnyResponse, error) {
		r.Header().Set("Authorization", "Bearer "+string(b))
		return next(ctx, r)
	}
}

func (b bearerInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, s connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, s)
		conn.RequestHeader().Set("Authorization", "Bearer "+string(b))
		return conn
	}
}

func (b bearerInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// Deploy deploys the source of a .knhk file named name and returns the
// program's hash.
func (c *Client) Deploy(ctx context.Context, name string, source []byte) (*knhkv1.DeployResponse, error) {
	r, err := c.api.Deploy(ctx, connect.NewRequest(&knhkv1.DeployRequest{Name: name, Source: string(source)}))
	if err != nil {
		return nil, err
	}
	return r.Msg, nil
}

// Start starts a case and returns its id.
func (c *Client) Start(ctx context.Context, req *knhkv1.StartCaseRequest) (*knhkv1.StartCaseResponse, error) {
	r, err := c.api.StartCase(ctx, connect.NewRequest(req))
	if err != nil {
		return nil, err
	}
	return r.Msg, nil
}

// Signal delivers signal name with payload (JSON, "" for none) to a case.
func (c *Client) Signal(ctx context.Context, caseID, name, payload string) (*knhkv1.CaseSummary, error) {
	return c.SignalOnce(ctx, caseID, name, payload, "")
}

// SignalOnce is Signal made idempotent by requestID: a retry with the
// same id (after a timeout, or a server crash) is not delivered again.
func (c *Client) SignalOnce(ctx context.Context, caseID, name, payload, requestID string) (*knhkv1.CaseSummary, error) {
	r, err := c.api.SignalCase(ctx, connect.NewRequest(&knhkv1.SignalCaseRequest{CaseId: caseID, Name: name, PayloadJson: payload, RequestId: requestID}))
	if err != nil {
		return nil, err
	}
	return r.Msg.Case, nil
}

// Query evaluates query name (every query when "") of a case.
func (c *Client) Query(ctx context.Context, caseID, name string) (string, error) {
	r, err := c.api.QueryCase(ctx, connect.NewRequest(&knhkv1.QueryCaseRequest{CaseId: caseID, Name: name}))
	if err != nil {
		return "", err
	}
	return r.Msg.ResultJson, nil
}

// Cancel cancels a case.
func (c *Client) Cancel(ctx context.Context, caseID string) (*knhkv1.CaseSummary, error) {
	r, err := c.api.CancelCase(ctx, connect.NewRequest(&knhkv1.CancelCaseRequest{CaseId: caseID}))
	if err != nil {
		return nil, err
	}
	return r.Msg.Case, nil
}

// Get returns where a case stands.
func (c *Client) Get(ctx context.Context, caseID string) (*knhkv1.CaseSummary, error) {
	r, err := c.api.GetCase(ctx, connect.NewRequest(&knhkv1.GetCaseRequest{CaseId: caseID}))
	if err != nil {
		return nil, err
	}
	return r.Msg.Case, nil
}

// Wait waits until a case ends, long-polling the server (each poll at
// most a minute) until ctx is done.
func (c *Client) Wait(ctx context.Context, caseID string) (*knhkv1.CaseSummary, error) {
	return c.wait(ctx, caseID, false)
}

// WaitIdle waits until a case ends or is idle: it waits for a signal and
// for nothing else but timers, where knhk run stops.
func (c *Client) WaitIdle(ctx context.Context, caseID string) (*knhkv1.CaseSummary, error) {
	return c.wait(ctx, caseID, true)
}

func (c *Client) wait(ctx context.Context, caseID string, orIdle bool) (*knhkv1.CaseSummary, error) {
	for {
		r, err := c.api.WaitCase(ctx, connect.NewRequest(&knhkv1.WaitCaseRequest{CaseId: caseID, TimeoutMs: pollMs(ctx), OrWaiting: orIdle}))
		if err != nil {
			return nil, err
		}
		if r.Msg.Done || orIdle && r.Msg.Case.GetIdle() {
			return r.Msg.Case, nil
		}
		if err := ctx.Err(); err != nil {
			return r.Msg.Case, err
		}
	}
}

// pollMs is how long one long poll may wait: a minute, the server's
// most, or less when ctx ends sooner.
func pollMs(ctx context.Context) int64 {
	poll := int64(60000)
	if dl, ok := ctx.Deadline(); ok {
		poll = min(poll, max(time.Until(dl).Milliseconds(), 1))
	}
	return poll
}

// BadInput returns the detail of an InvalidArgument error: the request's
// field at fault and, for a deployed source, its diagnostics; nil when
// err carries none.
func BadInput(err error) *knhkv1.BadInput {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return nil
	}
	for _, d := range ce.Details() {
		if v, err := d.Value(); err == nil {
			if bi, ok := v.(*knhkv1.BadInput); ok {
				return bi
			}
		}
	}
	return nil
}

// Code returns the Connect code of err (connect.CodeUnknown for an error
// that is not a Connect error).
func Code(err error) connect.Code { return connect.CodeOf(err) }
