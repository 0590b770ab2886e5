package tenant

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
	"github.com/knhk/knhk/server/auth"
)

// recorder is an HTTP client that sends a fresh nonce on every request,
// as knhk's CLI does, and keeps a copy of each request it sent: what an
// attacker on the wire would capture.
type recorder struct {
	mu   sync.Mutex
	sent []capturedCall
}

type capturedCall struct {
	method, url string
	header      http.Header
	body        []byte
}

func (c *recorder) Do(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	return auth.NonceClient{Base: doFunc(func(r *http.Request) (*http.Response, error) {
		c.mu.Lock()
		c.sent = append(c.sent, capturedCall{r.Method, r.URL.String(), r.Header.Clone(), body})
		c.mu.Unlock()
		return http.DefaultClient.Do(r)
	})}.Do(r)
}

type doFunc func(*http.Request) (*http.Response, error)

func (f doFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

// replay sends a captured request again, byte for byte.
func replay(t *testing.T, c capturedCall) (int, string) {
	t.Helper()
	req, err := http.NewRequest(c.method, c.url, bytes.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = c.header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestReplayedRequestRefused captures a StartCase request on the wire and
// sends it again: the same bytes with a request_id get the first answer
// (a client's retry after a timeout), its nonce with another body,
// request id or caller, or on a call without a request_id, is refused
// as a replay, and no second case starts. The client's own retry with
// the same request_id (a new request with a new nonce) passes and
// answers the first case. A call without a nonce is
// refused where the server requires one, except for reads.
func TestReplayedRequestRefused(t *testing.T) {
	f := newFixtureWith(t, nil, func(o *Options) { o.RequireNonce = true })
	tok := f.priv(auth.Principal{Subject: "a", Tenant: "acme", Role: auth.RoleAdmin})
	rec := &recorder{}
	c := knhkv1connect.NewKnhkServiceClient(rec, f.url, connect.WithInterceptors(bearerInterceptor(tok)))
	ctx := context.Background()
	if _, err := c.Deploy(ctx, connect.NewRequest(&knhkv1.DeployRequest{Name: "two.knhk", Source: testSrc})); err != nil {
		t.Fatal(err)
	}
	start := &knhkv1.StartCaseRequest{Workflow: "Hold", InputJson: `"x"`, RequestId: "order-17"}
	s1, err := c.StartCase(ctx, connect.NewRequest(start))
	if err != nil {
		t.Fatal(err)
	}
	captured := rec.sent[len(rec.sent)-1]
	if !strings.HasSuffix(captured.url, "/StartCase") || captured.header.Get(auth.NonceHeader) == "" {
		t.Fatalf("captured %s %v", captured.url, captured.header)
	}
	// Sent again byte for byte, as by a client that timed out: it
	// carries a request_id, so it gets the first answer, the same case.
	code, body := replay(t, captured)
	if code != http.StatusOK || !strings.Contains(body, s1.Msg.CaseId) {
		t.Fatalf("StartCase sent again with its nonce: %d %s, want the first answer (case %s)", code, body, s1.Msg.CaseId)
	}
	// The nonce with another purpose is refused: another body, another
	// request id, another caller of the tenant.
	nonce := captured.header.Get(auth.NonceHeader)
	other := func(what string, c capturedCall) {
		t.Helper()
		if code, body := replay(t, c); code != http.StatusUnauthorized || !strings.Contains(body, "replayed request: nonce "+nonce+" was already used") {
			t.Fatalf("the nonce with %s: %d %s", what, code, body)
		}
	}
	body2 := captured
	body2.body = bytes.Replace(captured.body, []byte(`"x"`), []byte(`"y"`), 1)
	if bytes.Equal(body2.body, captured.body) {
		t.Fatalf("the captured body %s has no input \"x\"", captured.body)
	}
	other("another body", body2)
	req2 := captured
	req2.body = bytes.Replace(captured.body, []byte("order-17"), []byte("order-18"), 1)
	other("another request id", req2)
	bob := captured
	bob.header = captured.header.Clone()
	bob.header.Set("Authorization", "Bearer "+f.priv(auth.Principal{Subject: "b", Tenant: "acme", Role: auth.RoleAdmin}))
	other("another caller", bob)
	// A call without a request_id would act twice: never a retry.
	if _, err := c.StartCase(ctx, connect.NewRequest(&knhkv1.StartCaseRequest{Workflow: "Hold", InputJson: `"z"`})); err != nil {
		t.Fatal(err)
	}
	if code, body := replay(t, rec.sent[len(rec.sent)-1]); code != http.StatusUnauthorized || !strings.Contains(body, "needs a request_id") {
		t.Fatalf("a start without a request_id sent again: %d %s", code, body)
	}
	// The retry (same request_id, new nonce) answers the first case.
	s2, err := c.StartCase(ctx, connect.NewRequest(start))
	if err != nil || s2.Msg.CaseId != s1.Msg.CaseId {
		t.Fatalf("retry: %v %v, want case %s", s2, err, s1.Msg.CaseId)
	}
	l, err := c.ListCases(ctx, connect.NewRequest(&knhkv1.ListCasesRequest{}))
	if err != nil || len(l.Msg.Cases) != 2 {
		t.Fatalf("cases after replays and retries: %v %v, want 2 (order-17 and the one without an id)", l, err)
	}
	// A stale request time (a request captured long ago, given a new nonce
	// by hand) is refused; so is a bad nonce.
	old := captured
	old.header = captured.header.Clone()
	old.header.Set(auth.NonceHeader, strings.Repeat("z", 22))
	old.header.Set(auth.RequestTimeHeader, "1000")
	if code, body := replay(t, old); code != http.StatusUnauthorized || !strings.Contains(body, "more than 5m0s from the server's clock") {
		t.Fatalf("stale: %d %s", code, body)
	}
	old.header.Set(auth.NonceHeader, "short")
	if code, body := replay(t, old); code != http.StatusUnauthorized || !strings.Contains(body, "bad Knhk-Nonce header") {
		t.Fatalf("bad nonce: %d %s", code, body)
	}
	// Without a nonce: a change is refused, a read passes.
	plain := f.client(tok)
	if _, err := plain.StartCase(ctx, connect.NewRequest(&knhkv1.StartCaseRequest{Workflow: "Inc", InputJson: `1`})); connect.CodeOf(err) != connect.CodeUnauthenticated || !strings.Contains(err.Error(), "needs the Knhk-Nonce and Knhk-Request-Time headers") {
		t.Fatalf("start without a nonce: %v", err)
	}
	if _, err := plain.ListCases(ctx, connect.NewRequest(&knhkv1.ListCasesRequest{})); err != nil {
		t.Fatalf("list without a nonce: %v", err)
	}
}

// TestOneTimeToken: a one-time token passes once; the captured request
// sent again, and any other call with the token, is refused, also after
// the server restarts.
func TestOneTimeToken(t *testing.T) {
	f := newFixture(t, nil)
	once := f.priv(auth.Principal{Subject: "a", Tenant: "acme", Role: auth.RoleViewer, Once: true})
	ctx := context.Background()
	list := func(tok string) error {
		_, err := f.client(tok).ListCases(ctx, connect.NewRequest(&knhkv1.ListCasesRequest{}))
		return err
	}
	if err := list(once); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if err := list(once); connect.CodeOf(err) != connect.CodeUnauthenticated || !strings.Contains(err.Error(), "replayed request: one-time token") {
		t.Fatalf("second use: %v", err)
	}
	// The used token is on disk: a new guard over the same directory
	// refuses it too.
	b, err := os.ReadFile(filepath.Join(Dir(f.data), "used-tokens"))
	if err != nil || len(bytes.TrimSpace(b)) == 0 {
		t.Fatalf("used-tokens: %q %v", b, err)
	}
	g, err := newReplayGuard(f.data, 0, false, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	id := strings.Fields(string(b))[0]
	req, _ := http.NewRequest("POST", f.url+auth.ServicePath+"ListCases", nil)
	if _, err := g.check(req, auth.Principal{Tenant: "acme", Role: auth.RoleViewer, Once: true, ID: id, Expires: time.Now().Add(time.Hour)}, auth.RoleViewer, 0, time.Now()); err == nil || !strings.Contains(err.Error(), "already used") {
		t.Fatalf("after a restart: %v", err)
	}
	// An ordinary token of the same principal is not affected.
	if err := list(f.priv(auth.Principal{Subject: "a", Tenant: "acme", Role: auth.RoleViewer})); err != nil {
		t.Fatal(err)
	}
}
