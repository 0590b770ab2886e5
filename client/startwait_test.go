package client_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
	"github.com/knhk/knhk/client"
	"github.com/knhk/knhk/server"
)

// TestStartAndWait: one call starts a case and returns its result, also
// when the case ends only once a signal came while the call waited (no
// WaitCase is made); the caller's request is left as it was.
func TestStartAndWait(t *testing.T) {
	s, err := server.Open(t.TempDir(), server.Options{IndexEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	mux := server.NewMux(s, server.MuxOptions{})
	var waits atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/WaitCase") {
			waits.Add(1)
		}
		mux.ServeHTTP(w, r)
	}))
	defer ts.Close()
	url := ts.URL
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := client.New(url)
	if _, err := c.Deploy(ctx, "approval.knhk", []byte(approval)); err != nil {
		t.Fatal(err)
	}
	req := &knhkv1.StartCaseRequest{Workflow: "Approve", InputJson: `"o-2"`, BusinessKey: "order o-2"}
	go func() {
		// The case is named by its business key: signal it once idle.
		for ctx.Err() == nil {
			list, err := c.API().ListCases(ctx, connect.NewRequest(&knhkv1.ListCasesRequest{KeyContains: "order o-2"}))
			if err == nil && len(list.Msg.Cases) == 1 && list.Msg.Cases[0].Idle {
				c.Signal(ctx, list.Msg.Cases[0].CaseId, "Decide", "true")
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	sum, err := c.StartAndWait(ctx, req)
	if err != nil || sum.Status != "completed" || sum.ResultJson != `"o-2 approved"` || sum.CaseId == "" {
		t.Fatalf("StartAndWait: %+v %v", sum, err)
	}
	if n := waits.Load(); n != 0 {
		t.Fatalf("StartAndWait made %d WaitCase calls; want one StartCase", n)
	}
	if req.WaitMs != 0 {
		t.Fatalf("the caller's request was changed: wait_ms %d", req.WaitMs)
	}
}

// TestStartAndWaitOlderServer: a server that answers a start without
// waiting (one older than wait_ms) is waited on with WaitCase.
func TestStartAndWaitOlderServer(t *testing.T) {
	f := &noWaitServer{}
	_, h := knhkv1connect.NewKnhkServiceHandler(f)
	ts := httptest.NewServer(h)
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sum, err := client.New(ts.URL).StartAndWait(ctx, &knhkv1.StartCaseRequest{Workflow: "W"})
	if err != nil || sum.CaseId != "c-1" || sum.ResultJson != "7" || f.waits != 1 || f.waitMs <= 0 {
		t.Fatalf("StartAndWait: %+v %v after %d waits (wait_ms %d)", sum, err, f.waits, f.waitMs)
	}
}

// noWaitServer starts case c-1 without waiting and ends it on the first
// WaitCase.
type noWaitServer struct {
	knhkv1connect.UnimplementedKnhkServiceHandler
	waitMs int64
	waits  int
}

func (f *noWaitServer) StartCase(_ context.Context, r *connect.Request[knhkv1.StartCaseRequest]) (*connect.Response[knhkv1.StartCaseResponse], error) {
	f.waitMs = r.Msg.WaitMs
	return connect.NewResponse(&knhkv1.StartCaseResponse{CaseId: "c-1"}), nil
}

func (f *noWaitServer) WaitCase(_ context.Context, r *connect.Request[knhkv1.WaitCaseRequest]) (*connect.Response[knhkv1.WaitCaseResponse], error) {
	f.waits++
	return connect.NewResponse(&knhkv1.WaitCaseResponse{Done: true, Case: &knhkv1.CaseSummary{CaseId: r.Msg.CaseId, Status: "completed", ResultJson: "7"}}), nil
}
