package worker_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
	"github.com/knhk/knhk/client"
	"github.com/knhk/knhk/client/worker"
)

// refusing is a KnhkService that refuses every WorkTasks stream with
// Unavailable, as a cluster node without a leader does.
type refusing struct {
	knhkv1connect.UnimplementedKnhkServiceHandler
}

func (refusing) WorkTasks(context.Context, *connect.BidiStream[knhkv1.WorkTasksRequest, knhkv1.WorkTasksResponse]) error {
	return connect.NewError(connect.CodeUnavailable, errors.New("no leader"))
}

// answerFirst serves each request with h after closing its body
// unread: the server's answer is complete before the client's first
// message could be written, the order a loaded machine only sometimes
// gives. It counts the calls by method and says on called that one
// came.
type answerFirst struct {
	h      http.Handler
	called chan struct{} // capacity 1
	mu     sync.Mutex
	per    map[string]int
}

func (a *answerFirst) RoundTrip(r *http.Request) (*http.Response, error) {
	a.mu.Lock()
	a.per[r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]]++
	a.mu.Unlock()
	defer func() {
		select {
		case a.called <- struct{}{}:
		default:
		}
	}()
	r.Body.Close() // the client's Send now fails with io.EOF
	rec := httptest.NewRecorder()
	unread := r.Clone(r.Context())
	unread.Body = http.NoBody
	unread.Proto, unread.ProtoMajor, unread.ProtoMinor = "HTTP/2.0", 2, 0 // a stream needs HTTP/2
	a.h.ServeHTTP(rec, unread)
	resp := rec.Result()
	resp.Proto, resp.ProtoMajor, resp.ProtoMinor = unread.Proto, 2, 0
	return resp, nil
}

func (a *answerFirst) calls(m string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.per[m]
}

// TestStreamRefusedBeforeRead: a server that refuses the stream with
// Unavailable before it reads the worker's first message (its Send
// sees only io.EOF) is taken at its word: the worker keeps to the
// stream, opening it again, instead of going back to one call per task
// as for a server that cannot stream.
func TestStreamRefusedBeforeRead(t *testing.T) {
	_, h := knhkv1connect.NewKnhkServiceHandler(refusing{})
	a := &answerFirst{h: h, called: make(chan struct{}, 1), per: map[string]int{}}
	hc := &http.Client{Transport: a}
	w, err := worker.New(worker.Remote(client.New("http://knhk.test", client.WithHTTPClient(hc), client.WithStreamHTTPClient(hc)).API()),
		worker.Options{Queue: "steps", ID: "w", Log: slog.New(slog.NewTextHandler(io.Discard, nil))},
		func(context.Context, *worker.Task) (any, error) { return nil, nil })
	if err != nil {
		t.Fatal(err)
	}
	stop := runUntilStopped(t, w, "w")
	// Either the stream is opened again or a unary call comes: wait for
	// one, as long as the test may run.
	for a.calls("WorkTasks") < 2 && a.calls("PollTask") == 0 {
		<-a.called
	}
	stop()
	if n := a.calls("PollTask"); n != 0 {
		t.Fatalf("the worker went back to one call per task (%d polls) after Unavailable on its stream", n)
	}
}
