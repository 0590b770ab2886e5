// This file tests that knhk serve --lease sets how long a worker holds a
// queue task.

package main

import (
	"context"
	"strconv"
	"syscall"
	"testing"
	"time"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/client"
)

// TestServeLease: with --lease 3s a polled task's lease deadline is about
// 3 s away (not the default 30 s), and a heartbeat moves it by as much.
func TestServeLease(t *testing.T) {
	dir := t.TempDir()
	srv := startServe(t, dir, "data", "--lease", "3s")
	defer srv.stop(t, syscall.SIGTERM)
	ctx := context.Background()
	c := client.New(srv.url)
	if _, err := c.Deploy(ctx, "pay.knhk", []byte(payQueueSource)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Start(ctx, &knhkv1.StartCaseRequest{Workflow: "Pay", InputJson: strconv.Quote("k")}); err != nil {
		t.Fatal(err)
	}
	var tk *knhkv1.WorkerTask
	for tk == nil {
		before := time.Now()
		res, err := c.API().PollTask(ctx, connectReq(&knhkv1.PollTaskRequest{Queue: "pay", Worker: "w", TimeoutMs: 5000}))
		if err != nil {
			t.Fatal(err)
		}
		if tk = res.Msg.Task; tk != nil {
			checkLease(t, "poll", before, tk.LeaseDeadlineUnixNano)
		}
	}
	before := time.Now()
	hb, err := c.API().Heartbeat(ctx, connectReq(&knhkv1.HeartbeatRequest{Id: tk.Id, Token: tk.Token}))
	if err != nil {
		t.Fatal(err)
	}
	checkLease(t, "heartbeat", before, hb.Msg.LeaseDeadlineUnixNano)
	if _, err := c.API().CompleteTask(ctx, connectReq(&knhkv1.CompleteTaskRequest{Id: tk.Id, Token: tk.Token, ResultJson: `"paid"`})); err != nil {
		t.Fatal(err)
	}
}

// checkLease fails unless the deadline is 3 s after before, give or take
// the call's own duration.
func checkLease(t *testing.T, what string, before time.Time, deadline int64) {
	t.Helper()
	got := time.Unix(0, deadline).Sub(before)
	if got < 3*time.Second || got > 3*time.Second+2*time.Second {
		t.Errorf("%s: lease deadline %v after the call, want 3s (--lease 3s)", what, got)
	}
}
