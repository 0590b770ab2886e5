// This file tests the worker's bindings: exec, http, std and extern.

package worker

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
)

// testProg is a program with one record type (Res = { id: string, n: int })
// and the tasks a test adds.
func testProg(tasks ...*ir.Task) *ir.Program {
	return &ir.Program{
		Types: []ir.Type{{Kind: ir.KindRecord, Name: "Res", Fields: []ir.Field{{Name: "id", Type: ir.String}, {Name: "n", Type: ir.Int}}}},
		Tasks: tasks,
	}
}

const resType = ir.FirstComposite

func execTask(result ir.TypeID, script string) *ir.Task {
	return &ir.Task{Name: "t", Params: []ir.Param{{Name: "id", Type: ir.String}, {Name: "qty", Type: ir.Int}},
		Result: result, Binding: ir.Binding{Kind: ir.BindExec, Target: "sh", Args: []string{"-c", script}}}
}

func invoke(t *testing.T, w *Worker, ctx context.Context, task *ir.Task, args ...any) (any, error) {
	t.Helper()
	v, err := w.Invoke(ctx, engine.Invocation{CaseID: "c1", Transition: "t_1", Attempt: 1, IdempotencyKey: "key-1", Task: task, Args: eval.Values(args...)})
	return eval.Plain(v), err
}

func TestExecSuccess(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.json")
	task := execTask(resType, `cat > `+in+`; printf '{"id":"%s","n":7}' "$KNHK_IDEMPOTENCY_KEY"`)
	w := New(testProg(task), Options{})
	got, err := invoke(t, w, context.Background(), task, "o-1", int64(3))
	if err != nil {
		t.Fatal(err)
	}
	l, ok := got.([]any)
	if !ok || len(l) != 2 || l[0] != "key-1" || l[1] != int64(7) {
		t.Fatalf("result = %#v, want [key-1 7]", got)
	}
	b, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"id":"o-1","qty":3}` {
		t.Errorf("stdin = %s", b)
	}
}

func TestExecBadResult(t *testing.T) {
	task := execTask(resType, `cat >/dev/null; echo '{"id":"x","n":"seven"}'`)
	w := New(testProg(task), Options{})
	_, err := invoke(t, w, context.Background(), task, "o", int64(1))
	if err == nil {
		t.Fatal("no error for a mistyped result")
	}
	var de *eval.DecodeError
	if !errors.As(err, &de) || de.Path != "result.n" || !strings.Contains(err.Error(), "expected int") {
		t.Fatalf("error = %v, want one naming result.n and int", err)
	}
}

func TestExecExitStatus(t *testing.T) {
	task := execTask(ir.String, `cat >/dev/null; echo '  out of stock  ' >&2; exit 3`)
	w := New(testProg(task), Options{})
	_, err := invoke(t, w, context.Background(), task, "o", int64(1))
	if err == nil || !strings.Contains(err.Error(), "exit status 3: out of stock") {
		t.Fatalf("error = %v, want the exit status and trimmed stderr", err)
	}
}

// TestExecTimeoutKillsGroup runs a task that starts a grandchild and
// hangs; the timeout must kill both.
func TestExecTimeoutKillsGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	task := execTask(ir.String, `cat >/dev/null; sleep 60 & echo $! > `+pidFile+`; wait`)
	w := New(testProg(task), Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := invoke(t, w, ctx, task, "o", int64(1))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error = %v, want the deadline", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("invoke took %v", d)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if gone(pid) {
			break
		}
		if i == 100 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("grandchild %d survived the timeout", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// gone reports whether pid no longer runs (it does not exist or is a
// zombie waiting for a reaper).
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return true
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}

func newHTTPTask(url string, result ir.TypeID) *ir.Task {
	return &ir.Task{Name: "h", Params: []ir.Param{{Name: "id", Type: ir.String}, {Name: "qty", Type: ir.Int}},
		Result: result, Binding: ir.Binding{Kind: ir.BindHTTP, Method: "POST", Target: url}}
}

func TestHTTP(t *testing.T) {
	var mu sync.Mutex
	var gotBody, gotKey, gotMethod string
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		gotBody, gotKey, gotMethod = string(b), r.Header.Get("Idempotency-Key"), r.Method
		mu.Unlock()
		switch r.URL.Path {
		case "/ok":
			rw.Write([]byte(`{"id":"P-9","n":2}`))
		case "/bad":
			rw.Write([]byte(`{"id":"P-9","n":true}`))
		default:
			rw.WriteHeader(500)
			rw.Write([]byte("database is down"))
		}
	}))
	defer srv.Close()
	ok, bad, fail := newHTTPTask(srv.URL+"/ok", resType), newHTTPTask(srv.URL+"/bad", resType), newHTTPTask(srv.URL+"/fail", resType)
	w := New(testProg(ok, bad, fail), Options{})

	got, err := invoke(t, w, context.Background(), ok, "o-1", int64(4))
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := got.([]any); len(l) != 2 || l[0] != "P-9" || l[1] != int64(2) {
		t.Errorf("result = %#v", got)
	}
	mu.Lock()
	if gotBody != `{"id":"o-1","qty":4}` || gotKey != "key-1" || gotMethod != "POST" {
		t.Errorf("request: %s %s key %q", gotMethod, gotBody, gotKey)
	}
	mu.Unlock()

	if _, err := invoke(t, w, context.Background(), fail, "o", int64(1)); err == nil ||
		!strings.Contains(err.Error(), "status 500: database is down") {
		t.Errorf("500: error = %v", err)
	}
	_, err = invoke(t, w, context.Background(), bad, "o", int64(1))
	var de *eval.DecodeError
	if !errors.As(err, &de) || de.Path != "result.n" {
		t.Errorf("mismatched body: error = %v, want one naming result.n", err)
	}
}

func stdTask(target string, result ir.TypeID, params ...ir.Param) *ir.Task {
	return &ir.Task{Name: strings.ReplaceAll(target, ".", "_"), Params: params, Result: result,
		Binding: ir.Binding{Kind: ir.BindStd, Target: target}}
}

func TestStdKV(t *testing.T) {
	dir := t.TempDir()
	optStr := ir.FirstComposite + 1
	p := testProg()
	p.Types = append(p.Types, ir.Type{Kind: ir.KindOptional, Elem: ir.String})
	get := stdTask("kv.get", optStr, ir.Param{Name: "key", Type: ir.String})
	put := stdTask("kv.put", ir.Void, ir.Param{Name: "key", Type: ir.String}, ir.Param{Name: "value", Type: ir.String})
	del := stdTask("kv.delete", ir.Void, ir.Param{Name: "key", Type: ir.String})
	p.Tasks = []*ir.Task{get, put, del}
	ctx := context.Background()

	w := New(p, Options{DataDir: dir})
	if v, err := invoke(t, w, ctx, get, "a"); err != nil || v != nil {
		t.Fatalf("get of a missing key = %v, %v", v, err)
	}
	if _, err := invoke(t, w, ctx, put, "a", "1"); err != nil {
		t.Fatal(err)
	}
	// A new worker on the same directory sees the value: it is on disk.
	w2 := New(p, Options{DataDir: dir})
	if v, err := invoke(t, w2, ctx, get, "a"); err != nil || v != "1" {
		t.Fatalf("get after put = %v, %v", v, err)
	}
	var m map[string]string
	b, err := os.ReadFile(filepath.Join(dir, kvFile))
	if err != nil || json.Unmarshal(b, &m) != nil || m["a"] != "1" {
		t.Fatalf("kv file = %s, %v", b, err)
	}
	if _, err := invoke(t, w2, ctx, del, "a"); err != nil {
		t.Fatal(err)
	}
	if v, err := invoke(t, w, ctx, get, "a"); err != nil || v != nil {
		t.Fatalf("get after delete = %v, %v", v, err)
	}
}

func TestStdLogStringsSleep(t *testing.T) {
	var log strings.Builder
	info := stdTask("log.info", ir.Void, ir.Param{Name: "msg", Type: ir.String})
	upper := stdTask("strings.upper", ir.String, ir.Param{Name: "s", Type: ir.String})
	sleep := stdTask("time.sleep", ir.Void, ir.Param{Name: "d", Type: ir.Duration})
	nope := stdTask("no.such", ir.Void)
	w := New(testProg(info, upper, sleep, nope), Options{Log: &log})
	ctx := context.Background()
	if _, err := invoke(t, w, ctx, info, "hello"); err != nil {
		t.Fatal(err)
	}
	if log.String() != "info [c1] hello\n" {
		t.Errorf("log = %q", log.String())
	}
	if v, err := invoke(t, w, ctx, upper, "abc"); err != nil || v != "ABC" {
		t.Errorf("upper = %v, %v", v, err)
	}
	start := time.Now()
	if _, err := invoke(t, w, ctx, sleep, 30*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 30*time.Millisecond {
		t.Error("time.sleep returned early")
	}
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if _, err := invoke(t, w, short, sleep, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("sleep past the timeout: %v", err)
	}
	if _, err := invoke(t, w, ctx, nope); err == nil || !strings.Contains(err.Error(), `no std task "no.such"`) {
		t.Errorf("unknown std task: %v", err)
	}
}

func TestStdHTTPGet(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(rw, r)
			return
		}
		rw.Write([]byte("hi " + r.Header.Get("Idempotency-Key")))
	}))
	defer srv.Close()
	get := stdTask("http.get", ir.String, ir.Param{Name: "url", Type: ir.String})
	w := New(testProg(get), Options{})
	if v, err := invoke(t, w, context.Background(), get, srv.URL+"/x"); err != nil || v != "hi key-1" {
		t.Errorf("http.get = %v, %v", v, err)
	}
	if _, err := invoke(t, w, context.Background(), get, srv.URL+"/missing"); err == nil || !strings.Contains(err.Error(), "status 404") {
		t.Errorf("http.get of a 404: %v", err)
	}
}

func TestExtern(t *testing.T) {
	task := &ir.Task{Name: "score", Params: []ir.Param{{Name: "id", Type: ir.String}, {Name: "qty", Type: ir.Int}},
		Result: ir.Int, Binding: ir.Binding{Kind: ir.BindExtern, Target: "score"}}
	wrong := &ir.Task{Name: "wrong", Result: ir.Int, Binding: ir.Binding{Kind: ir.BindExtern, Target: "wrong"}}
	missing := &ir.Task{Name: "missing", Binding: ir.Binding{Kind: ir.BindExtern, Target: "nobody"}}
	r := NewRegistry()
	r.Register("score", func(_ context.Context, c Call) (eval.Value, error) {
		if c.IdempotencyKey != "key-1" {
			return eval.Value{}, errors.New("no key")
		}
		return eval.Int(int64(len(c.Args[0].AsString())) * c.Args[1].AsInt()), nil
	})
	r.Register("wrong", func(context.Context, Call) (eval.Value, error) { return eval.Str("x"), nil })
	w := New(testProg(task, wrong, missing), Options{Registry: r})
	if v, err := invoke(t, w, context.Background(), task, "abc", int64(5)); err != nil || v != int64(15) {
		t.Errorf("score = %v, %v", v, err)
	}
	if _, err := w.Invoke(context.Background(), engine.Invocation{Task: wrong}); err == nil || !strings.Contains(err.Error(), "bad result") {
		t.Errorf("wrong result type: %v", err)
	}
	if _, err := w.Invoke(context.Background(), engine.Invocation{Task: missing}); err == nil || !strings.Contains(err.Error(), `"nobody"`) {
		t.Errorf("unregistered: %v", err)
	}
	if got := r.Symbols(); len(got) != 2 || got[0] != "score" || got[1] != "wrong" {
		t.Errorf("Symbols = %v", got)
	}
}
