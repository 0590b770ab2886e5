package client_test

import (
	"context"
	"testing"
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/client"
	"github.com/knhk/knhk/server"
)

// TestWatchHistory: the server stream of a case's history sends what is
// there, then each entry as it is appended, and ends with the case.
func TestWatchHistory(t *testing.T) {
	url, stop := serve(server.MuxOptions{Token: "tok"})
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c := client.New(url, client.WithToken("tok"))
	if _, err := c.Deploy(ctx, "approval.knhk", []byte(approval)); err != nil {
		t.Fatal(err)
	}
	start, err := c.Start(ctx, &knhkv1.StartCaseRequest{Workflow: "Approve", InputJson: `"o-1"`})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WaitIdle(ctx, start.CaseId); err != nil {
		t.Fatal(err)
	}
	stream, err := c.API().WatchHistory(ctx, connect.NewRequest(&knhkv1.WatchHistoryRequest{CaseId: start.CaseId}))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	signalled := false
	for stream.Receive() {
		kinds = append(kinds, stream.Msg().Kind)
		if !signalled {
			signalled = true
			if _, err := c.Signal(ctx, start.CaseId, "Decide", "false"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if len(kinds) < 3 || kinds[0] != "start" || !contains(kinds, "signal") {
		t.Fatalf("watched %v", kinds)
	}
	sum, err := c.Get(ctx, start.CaseId)
	if err != nil || sum.ResultJson != `"o-1 rejected"` {
		t.Fatalf("%+v %v", sum, err)
	}
	// An unknown case ends the stream with not_found.
	stream, _ = c.API().WatchHistory(ctx, connect.NewRequest(&knhkv1.WatchHistoryRequest{CaseId: "c-none"}))
	for stream.Receive() {
	}
	if client.Code(stream.Err()) != connect.CodeNotFound {
		t.Fatalf("watch of an unknown case: %v", stream.Err())
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
