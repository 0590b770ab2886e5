// This file tests the default timeout of HTTP calls against a server
// that never answers.

package worker

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/knhk/knhk/compiler/ir"
)

func TestHTTPDefaultTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		select { // silent until the client gives up or the test ends
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	bound := newHTTPTask(srv.URL+"/x", resType)
	get := stdTask("http.get", ir.String, ir.Param{Name: "url", Type: ir.String})
	w := New(testProg(bound, get), Options{HTTPTimeout: 50 * time.Millisecond})
	for _, c := range []struct {
		task *ir.Task
		args []any
	}{{bound, []any{"o", int64(1)}}, {get, []any{srv.URL + "/y"}}} {
		done := make(chan error, 1)
		go func() {
			_, err := invoke(t, w, context.Background(), c.task, c.args...)
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("%s: error = %v, want the deadline", c.task.Name, err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: an http call without a timeout clause waited on a silent server", c.task.Name)
		}
	}
	if New(testProg(), Options{}).o.HTTPTimeout != DefaultHTTPTimeout {
		t.Error("zero HTTPTimeout is not the default")
	}
	// A deadline from a timeout clause is kept, even a longer one.
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	got, stop := httpDeadline(ctx, bound, time.Millisecond)
	defer stop()
	if d1, _ := got.Deadline(); d1.Before(time.Now().Add(time.Minute)) {
		t.Error("a timeout clause's deadline was shortened to the default")
	}
}
