package tenant

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
	"github.com/knhk/knhk/server"
	"github.com/knhk/knhk/server/auth"
	"github.com/knhk/knhk/server/console"
)

const otherSrc = `package other

workflow Other() -> int {
  return 1
}
`

const testSrc = `package two

task step(n: int) -> int queue "steps"

workflow Two(n: int) -> int {
  let a = step(n)
  return a
}

workflow Hold(id: string) -> string {
  var stage = "waiting"
  query stage -> string = stage
  select {
    on signal Approve(by: string) -> { return id + " by " + by }
    on timer 48h -> { fail "nobody approved" }
  }
}

workflow Inc(n: int) -> int {
  return n + 1
}
`

// fixture is a server with tenants acme and beta beside the default one.
type fixture struct {
	data  string
	url   string
	host  *Host
	priv  func(p auth.Principal) string
	def   *server.Service
	quota map[string]Quota
}

func newFixture(t testing.TB, quotas map[string]Quota) *fixture {
	t.Helper()
	return newFixtureWith(t, quotas, nil)
}

// newFixtureWith is newFixture with edit applied to the Host's options.
func newFixtureWith(t testing.TB, quotas map[string]Quota, edit func(*Options)) *fixture {
	t.Helper()
	data := t.TempDir()
	reg, err := Load(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"acme", "beta"} {
		if _, err := reg.Create(id, quotas[id], time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := reg.Save(data); err != nil {
		t.Fatal(err)
	}
	priv, err := IssuerKey(data)
	if err != nil {
		t.Fatal(err)
	}
	pem, _ := os.ReadFile(PubPath(data))
	keys, err := auth.ParseKeys("issuer.pub", pem)
	if err != nil {
		t.Fatal(err)
	}
	o := Options{
		Data:     data,
		Verifier: &auth.Verifier{Keys: keys, Issuer: Issuer, Static: "static-token"},
		Open: func(id, dir string, admit func(string) (func(), error)) (*server.Service, error) {
			return server.Open(dir, server.Options{IndexEvery: -1, AdmitStart: admit})
		},
		Reload: 20 * time.Millisecond,
	}
	if edit != nil {
		edit(&o)
	}
	h, err := NewHost(o)
	if err != nil {
		t.Fatal(err)
	}
	def, err := server.Open(data, server.Options{IndexEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	mux := server.NewMux(def, server.MuxOptions{Authorize: h.Authorizer(auth.DefaultTenant)})
	console.Mount(mux, def)
	h.SetDefault(mux)
	ts := httptest.NewUnstartedServer(h)
	// As knhk serve: HTTP/2 cleartext too, for workers' streams.
	ts.Config.Protocols = new(http.Protocols)
	ts.Config.Protocols.SetHTTP1(true)
	ts.Config.Protocols.SetUnencryptedHTTP2(true)
	ts.Start()
	t.Cleanup(func() {
		ts.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := h.Close(ctx); err != nil {
			t.Error(err)
		}
		if err := def.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	return &fixture{data: data, url: ts.URL, host: h, def: def, priv: func(p auth.Principal) string {
		tok, err := auth.Issue(priv, Issuer, p, time.Hour, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}}
}

// client returns an API client that sends token.
func (f *fixture) client(token string) knhkv1connect.KnhkServiceClient {
	return knhkv1connect.NewKnhkServiceClient(h2cStreams{}, f.url, connect.WithInterceptors(bearerInterceptor(token)))
}

// h2cStreams sends a worker's WorkTasks stream, which needs HTTP/2,
// over HTTP/2 cleartext, and every other call with http.DefaultClient.
type h2cStreams struct{}

var h2cClient = &http.Client{Transport: &http.Transport{Protocols: func() *http.Protocols {
	p := new(http.Protocols)
	p.SetUnencryptedHTTP2(true)
	return p
}()}}

func (h2cStreams) Do(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/WorkTasks") {
		return h2cClient.Do(r)
	}
	return http.DefaultClient.Do(r)
}

type bearerInterceptor string

func (b bearerInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, r connect.AnyRequest) (connect.AnyResponse, error) {
		if b != "" {
			r.Header().Set("Authorization", "Bearer "+string(b))
		}
		return next(ctx, r)
	}
}

func (b bearerInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, s connect.Spec) connect.StreamingClientConn {
		c := next(ctx, s)
		if b != "" {
			c.RequestHeader().Set("Authorization", "Bearer "+string(b))
		}
		return c
	}
}

func (b bearerInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// ids are one tenant's case, program and task ids.
type ids struct {
	hold, two, program, taskID, taskToken string
}

// seed deploys the test program into the tenant c speaks for, starts a
// held case and a case with a leased queue task.
func seed(t *testing.T, c knhkv1connect.KnhkServiceClient) ids {
	t.Helper()
	ctx := context.Background()
	d, err := c.Deploy(ctx, connect.NewRequest(&knhkv1.DeployRequest{Name: "two.knhk", Source: testSrc}))
	if err != nil {
		t.Fatal(err)
	}
	var out ids
	out.program = d.Msg.Hash
	s, err := c.StartCase(ctx, connect.NewRequest(&knhkv1.StartCaseRequest{Workflow: "Hold", InputJson: `"x"`}))
	if err != nil {
		t.Fatal(err)
	}
	out.hold = s.Msg.CaseId
	s, err = c.StartCase(ctx, connect.NewRequest(&knhkv1.StartCaseRequest{Workflow: "Two", InputJson: `1`}))
	if err != nil {
		t.Fatal(err)
	}
	out.two = s.Msg.CaseId
	p, err := c.PollTask(ctx, connect.NewRequest(&knhkv1.PollTaskRequest{Queue: "steps", Worker: "w", TimeoutMs: 5000}))
	if err != nil || p.Msg.Task == nil {
		t.Fatalf("poll: %v %v", p, err)
	}
	out.taskID, out.taskToken = p.Msg.Task.Id, p.Msg.Task.Token
	return out
}

// calls holds one call of every API method with the ids of another
// tenant; each returns the error and whether the answer held any data.
func calls(a ids) map[string]func(context.Context, knhkv1connect.KnhkServiceClient) (bool, error) {
	type C = knhkv1connect.KnhkServiceClient
	return map[string]func(context.Context, C) (bool, error){
		"Deploy": func(ctx context.Context, c C) (bool, error) {
			// A program of the caller's own: it answers as a first
			// deploy, never naming the other tenant's programs.
			r, err := c.Deploy(ctx, connect.NewRequest(&knhkv1.DeployRequest{Name: "other.knhk", Source: otherSrc}))
			return err == nil && (r.Msg.Hash == a.program || len(r.Msg.Workflows) != 1), err
		},
		"ListPrograms": func(ctx context.Context, c C) (bool, error) {
			r, err := c.ListPrograms(ctx, connect.NewRequest(&knhkv1.ListProgramsRequest{}))
			if err != nil {
				return false, err
			}
			for _, p := range r.Msg.Programs {
				if p.Hash == a.program || p.Name == "two.knhk" {
					return true, nil
				}
			}
			return false, nil
		},
		"StartCase": func(ctx context.Context, c C) (bool, error) {
			r, err := c.StartCase(ctx, connect.NewRequest(&knhkv1.StartCaseRequest{Workflow: "Inc", Program: a.program, InputJson: "1"}))
			return err == nil && r.Msg.CaseId != "", err
		},
		"SignalCase": func(ctx context.Context, c C) (bool, error) {
			_, err := c.SignalCase(ctx, connect.NewRequest(&knhkv1.SignalCaseRequest{CaseId: a.hold, Name: "Approve", PayloadJson: `{"by":"mallory"}`}))
			return err == nil, err
		},
		"QueryCase": func(ctx context.Context, c C) (bool, error) {
			_, err := c.QueryCase(ctx, connect.NewRequest(&knhkv1.QueryCaseRequest{CaseId: a.hold, Name: "stage"}))
			return err == nil, err
		},
		"CancelCase": func(ctx context.Context, c C) (bool, error) {
			_, err := c.CancelCase(ctx, connect.NewRequest(&knhkv1.CancelCaseRequest{CaseId: a.hold}))
			return err == nil, err
		},
		"GetCase": func(ctx context.Context, c C) (bool, error) {
			_, err := c.GetCase(ctx, connect.NewRequest(&knhkv1.GetCaseRequest{CaseId: a.two}))
			return err == nil, err
		},
		"WaitCase": func(ctx context.Context, c C) (bool, error) {
			_, err := c.WaitCase(ctx, connect.NewRequest(&knhkv1.WaitCaseRequest{CaseId: a.two, TimeoutMs: 10, OrWaiting: true}))
			return err == nil, err
		},
		"GetHistory": func(ctx context.Context, c C) (bool, error) {
			_, err := c.GetHistory(ctx, connect.NewRequest(&knhkv1.GetHistoryRequest{CaseId: a.two}))
			return err == nil, err
		},
		"WatchHistory": func(ctx context.Context, c C) (bool, error) {
			ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			st, err := c.WatchHistory(ctx, connect.NewRequest(&knhkv1.WatchHistoryRequest{CaseId: a.two}))
			if err != nil {
				return false, err
			}
			got := st.Receive()
			return got, st.Err()
		},
		"ListCases": func(ctx context.Context, c C) (bool, error) {
			r, err := c.ListCases(ctx, connect.NewRequest(&knhkv1.ListCasesRequest{}))
			if err != nil {
				return false, err
			}
			for _, c := range r.Msg.Cases {
				if c.CaseId == a.hold || c.CaseId == a.two || c.Program == a.program {
					return true, nil
				}
			}
			return false, nil
		},
		"Export": func(ctx context.Context, c C) (bool, error) {
			_, err := c.Export(ctx, connect.NewRequest(&knhkv1.ExportRequest{CaseIds: []string{a.two}, Format: "csv"}))
			return err == nil, err
		},
		"PollTask": func(ctx context.Context, c C) (bool, error) {
			r, err := c.PollTask(ctx, connect.NewRequest(&knhkv1.PollTaskRequest{Queue: "steps", Worker: "m", TimeoutMs: 50}))
			return err == nil && r.Msg.Task != nil, err
		},
		"Heartbeat": func(ctx context.Context, c C) (bool, error) {
			_, err := c.Heartbeat(ctx, connect.NewRequest(&knhkv1.HeartbeatRequest{Id: a.taskID, Token: a.taskToken}))
			return err == nil, err
		},
		"CompleteTask": func(ctx context.Context, c C) (bool, error) {
			_, err := c.CompleteTask(ctx, connect.NewRequest(&knhkv1.CompleteTaskRequest{Id: a.taskID, Token: a.taskToken, ResultJson: "666"}))
			return err == nil, err
		},
		"FailTask": func(ctx context.Context, c C) (bool, error) {
			_, err := c.FailTask(ctx, connect.NewRequest(&knhkv1.FailTaskRequest{Id: a.taskID, Token: a.taskToken, Message: "x"}))
			return err == nil, err
		},
		"CompleteAndPollTask": func(ctx context.Context, c C) (bool, error) {
			r, err := c.CompleteAndPollTask(ctx, connect.NewRequest(&knhkv1.CompleteAndPollTaskRequest{
				Complete: &knhkv1.CompleteTaskRequest{Id: a.taskID, Token: a.taskToken, ResultJson: "666"},
				Poll:     &knhkv1.PollTaskRequest{Queue: "steps", Worker: "m", TimeoutMs: 50}}))
			return err == nil && r.Msg.Task != nil, err
		},
		"WorkTasks": func(ctx context.Context, c C) (bool, error) {
			// A stream on the caller's queue: another tenant's task is
			// unknown here (its outcome refused, not applied) and none
			// of its tasks is pushed.
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			st := c.WorkTasks(sctx)
			defer st.CloseResponse()
			err := st.Send(&knhkv1.WorkTasksRequest{Queue: "steps", Worker: "m", Credits: 1,
				Outcomes: []*knhkv1.TaskOutcome{{Id: a.taskID, Token: a.taskToken, Outcome: &knhkv1.TaskOutcome_ResultJson{ResultJson: "666"}}}})
			if errors.Is(err, io.EOF) {
				err = nil // the server ended the stream: Receive says why
			}
			data := false
			for err == nil {
				var m *knhkv1.WorkTasksResponse
				if m, err = st.Receive(); err != nil {
					break
				}
				data = data || len(m.Tasks) > 0
				if len(m.Acks) > 0 {
					data = data || m.Acks[0].Code != "not_found"
					break
				}
			}
			st.CloseRequest()
			return data, err
		},
		"CompleteAndPollTasks": func(ctx context.Context, c C) (bool, error) {
			r, err := c.CompleteAndPollTasks(ctx, connect.NewRequest(&knhkv1.CompleteAndPollTasksRequest{
				Queue: "steps", Worker: "m", MaxTasks: 1, WaitMs: 50,
				Completions: []*knhkv1.TaskOutcome{{Id: a.taskID, Token: a.taskToken, Outcome: &knhkv1.TaskOutcome_ResultJson{ResultJson: "666"}}}}))
			// Another tenant's task is unknown here: refused, not applied.
			applied := err == nil && (len(r.Msg.CompletionErrors) != 1 || r.Msg.CompletionErrors[0].Code != "not_found")
			return err == nil && (len(r.Msg.Tasks) > 0 || applied), err
		},
	}
}

func methodNames(t *testing.T) []string {
	ms := knhkv1.File_knhk_v1_knhk_proto.Services().ByName("KnhkService").Methods()
	var out []string
	for i := 0; i < ms.Len(); i++ {
		out = append(out, string(ms.Get(i).Name()))
	}
	if len(out) < 17 {
		t.Fatalf("only %d methods", len(out))
	}
	return out
}

// TestCrossTenant calls every API method with tenant beta's credentials
// and tenant acme's ids: each answers "not found" or an answer without
// data, never acme's data, and acme's cases are untouched afterwards. A
// method without a call here fails the test.
func TestCrossTenant(t *testing.T) {
	f := newFixture(t, nil)
	acme := f.client(f.priv(auth.Principal{Subject: "a", Tenant: "acme", Role: auth.RoleAdmin}))
	beta := f.client(f.priv(auth.Principal{Subject: "b", Tenant: "beta", Role: auth.RoleAdmin}))
	a := seed(t, acme)
	// The default tenant (the --token-file holder) is a tenant like any
	// other: it sees none of acme's cases either.
	static := f.client("static-token")
	cs := calls(a)
	for _, m := range methodNames(t) {
		call, ok := cs[m]
		if !ok {
			t.Errorf("no cross-tenant call for method %s", m)
			continue
		}
		for name, c := range map[string]knhkv1connect.KnhkServiceClient{"beta": beta, "default": static} {
			data, err := call(context.Background(), c)
			if data {
				t.Errorf("%s: %s got data of tenant acme", m, name)
			}
			if err != nil && connect.CodeOf(err) != connect.CodeNotFound {
				t.Errorf("%s: %s got %v, want not_found", m, name, err)
			}
			if err == nil && !map[string]bool{"Deploy": true, "ListPrograms": true, "ListCases": true, "PollTask": true, "CompleteAndPollTask": false, "CompleteAndPollTasks": true, "WorkTasks": true}[m] {
				t.Errorf("%s: %s succeeded with acme's ids", m, name)
			}
		}
	}
	// The console's pages: beta's token (header or cookie) does not find
	// acme's case; acme's viewer does.
	betaTok := f.priv(auth.Principal{Subject: "b", Tenant: "beta", Role: auth.RoleViewer})
	acmeViewer := f.priv(auth.Principal{Subject: "v", Tenant: "acme", Role: auth.RoleViewer})
	for _, c := range []struct {
		tok    string
		cookie bool
		want   int
	}{{betaTok, false, 404}, {betaTok, true, 404}, {acmeViewer, true, 200}, {acmeViewer, false, 200}} {
		req, _ := http.NewRequest("GET", f.url+"/console/api/case?id="+a.hold, nil)
		if c.cookie {
			req.AddCookie(&http.Cookie{Name: "knhk-token", Value: c.tok})
		} else {
			req.Header.Set("Authorization", "Bearer "+c.tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want || c.want == 404 && (!strings.Contains(string(body), "not_found") || strings.Contains(string(body), "Hold")) {
			t.Errorf("console case as %+v: %d %s", c, resp.StatusCode, body)
		}
	}

	// acme's cases are as they were: the held case waits, its query
	// answers, the task is still acme's to complete.
	ctx := context.Background()
	g, err := acme.GetCase(ctx, connect.NewRequest(&knhkv1.GetCaseRequest{CaseId: a.hold}))
	if err != nil || g.Msg.Case.Status != "running" {
		t.Fatalf("acme's held case after beta's calls: %v %v", g, err)
	}
	if _, err := acme.CompleteTask(ctx, connect.NewRequest(&knhkv1.CompleteTaskRequest{Id: a.taskID, Token: a.taskToken, ResultJson: "7"})); err != nil {
		t.Fatalf("acme completes its own task: %v", err)
	}
	w, err := acme.WaitCase(ctx, connect.NewRequest(&knhkv1.WaitCaseRequest{CaseId: a.two, TimeoutMs: 5000}))
	if err != nil || w.Msg.Case.ResultJson != "7" {
		t.Fatalf("acme's case result: %v %v", w, err)
	}
	l, err := acme.ListCases(ctx, connect.NewRequest(&knhkv1.ListCasesRequest{}))
	if err != nil || len(l.Msg.Cases) != 2 {
		t.Fatalf("acme lists %v %v, want its 2 cases", l, err)
	}
}

// TestRoles calls every method with each role: it is refused with
// permission_denied exactly when the role is below the method's least
// role, and never otherwise.
func TestRoles(t *testing.T) {
	f := newFixture(t, nil)
	a := seed(t, f.client(f.priv(auth.Principal{Subject: "a", Tenant: "acme", Role: auth.RoleAdmin})))
	cs := calls(a)
	for _, role := range []auth.Role{auth.RoleViewer, auth.RoleOperator, auth.RoleDeployer, auth.RoleAdmin} {
		c := f.client(f.priv(auth.Principal{Subject: "u", Tenant: "acme", Role: role}))
		for _, m := range methodNames(t) {
			_, err := cs[m](context.Background(), c)
			denied := connect.CodeOf(err) == connect.CodePermissionDenied
			if want := role < auth.MethodRoles[m]; denied != want {
				t.Errorf("%s as %s: %v, want denied=%v", m, role, err, want)
			}
			if denied && !strings.Contains(err.Error(), "role "+role.String()+" may not call") {
				t.Errorf("%s as %s: %v", m, role, err)
			}
		}
	}
}

// TestRefusals: no token, a bad token, a token of an unknown, suspended
// or deleted tenant, each refused with a clear message; a deleted
// tenant's data is erased.
func TestRefusals(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	list := func(c knhkv1connect.KnhkServiceClient) error {
		_, err := c.ListCases(ctx, connect.NewRequest(&knhkv1.ListCasesRequest{}))
		return err
	}
	acmeTok := f.priv(auth.Principal{Subject: "a", Tenant: "acme", Role: auth.RoleAdmin})
	seed(t, f.client(acmeTok))
	for name, c := range map[string]struct {
		tok  string
		code connect.Code
		msg  string
	}{
		"no token":       {"", connect.CodeUnauthenticated, "missing bearer token"},
		"garbage":        {"garbage", connect.CodeUnauthenticated, "token is malformed"},
		"tampered":       {acmeTok[:len(acmeTok)-4] + "AAAA", connect.CodeUnauthenticated, "signature is invalid"},
		"unknown tenant": {f.priv(auth.Principal{Subject: "x", Tenant: "nobody", Role: auth.RoleAdmin}), connect.CodeUnauthenticated, "tenant nobody does not exist"},
	} {
		err := list(f.client(c.tok))
		if connect.CodeOf(err) != c.code || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want %v %q", name, err, c.code, c.msg)
		}
	}
	// The console's data needs a token too; its assets do not.
	for path, want := range map[string]int{"/console/api/case?id=x": 401, "/": 200} {
		resp, err := http.Get(f.url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s without a token: %d, want %d", path, resp.StatusCode, want)
		}
	}

	setState := func(id string, s State) {
		reg, err := Load(f.data)
		if err != nil {
			t.Fatal(err)
		}
		reg.Get(id).State = s
		if err := reg.Save(f.data); err != nil {
			t.Fatal(err)
		}
		// The registry's mtime may not move within the clock's grain.
		f.host.mu.Lock()
		f.host.regTime = time.Time{}
		f.host.mu.Unlock()
		if err := f.host.reload(); err != nil {
			t.Fatal(err)
		}
	}
	setState("acme", Suspended)
	if err := list(f.client(acmeTok)); connect.CodeOf(err) != connect.CodePermissionDenied || !strings.Contains(err.Error(), "tenant acme is suspended") {
		t.Errorf("suspended: %v", err)
	}
	setState("acme", Active)
	if err := list(f.client(acmeTok)); err != nil {
		t.Errorf("resumed: %v", err)
	}
	setState("acme", Deleted)
	if err := list(f.client(acmeTok)); connect.CodeOf(err) != connect.CodeUnauthenticated || !strings.Contains(err.Error(), "tenant acme does not exist") {
		t.Errorf("deleted: %v", err)
	}
	if _, err := os.Stat(dirOf(f.data, "acme")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("deleted tenant's directory: %v", err)
	}
	reg, _ := Load(f.data)
	if _, err := reg.Create("acme", Quota{}, time.Now()); err == nil || !strings.Contains(err.Error(), "not reused") {
		t.Errorf("recreate a deleted id: %v", err)
	}
}

func TestCheckID(t *testing.T) {
	for _, id := range []string{"", "A", "1a", "a/b", "..", "a.b", "default", strings.Repeat("a", 64)} {
		if CheckID(id) == nil {
			t.Errorf("CheckID(%q) accepted", id)
		}
	}
	for _, id := range []string{"a", "acme-2", strings.Repeat("a", 63)} {
		if err := CheckID(id); err != nil {
			t.Errorf("CheckID(%q): %v", id, err)
		}
	}
}
