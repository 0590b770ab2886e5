package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/meter"
)

// TestClusterAccelLimitCountsTheLog checks that, once a node's group is
// open, the licence's accelerator_seconds_per_month is asked with the
// month the group's log carries (every node's calls) plus this node's
// time not yet proposed, not with this node's ledger alone.
func TestClusterAccelLimitCountsTheLog(t *testing.T) {
	m, err := meter.NewAccelerator(nil, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var asked meter.AccelMonth
	allow := logAllow(func(u meter.AccelMonth) error {
		asked = u
		if u.NS >= 10 {
			return errors.New("limit reached")
		}
		return nil
	}, m)
	if err := allow(meter.AccelMonth{NS: 3, Calls: 1}); err != nil || asked != (meter.AccelMonth{NS: 3, Calls: 1}) {
		t.Fatalf("before the node is open: %v, asked %+v (the ledger's)", err, asked)
	}
	month := meter.Month(time.Now().UnixNano())
	f := cluster.NewFSM(nil, "p")
	c := &cluster.Command{Op: cluster.OpMeter, Program: "p", Accel: []cluster.AccelUse{{Month: month, NS: 8, Calls: 2}}}
	b, err := c.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := f.Apply(&raft.Log{Index: 1, Type: raft.LogCommand, Data: b}).(*cluster.Result); r == nil || r.Err != nil {
		t.Fatalf("applying the meter entry: %+v", r)
	}
	clusterAccelLogs.Store(m, f)
	defer clusterAccelLogs.Delete(m)
	m.ReturnPending(map[string]meter.AccelMonth{month: {NS: 2, Calls: 1}})
	// This node's ledger has nothing (another node ran the calls): the
	// log's 8 and the pending 2 reach the limit.
	if err := allow(meter.AccelMonth{}); err == nil || asked != (meter.AccelMonth{NS: 10, Calls: 3}) {
		t.Fatalf("with the log: %v, asked %+v, want 10 ns in 3 calls", err, asked)
	}
}

// TestPostAccelMayBeInTheLog checks which failures of a follower's post
// give its time back to be sent again: only those where the leader
// surely proposed nothing (unreachable, not the leader), never one that
// fails after the leader may have proposed it (no answer in time).
func TestPostAccelMayBeInTheLog(t *testing.T) {
	p := accelPost{Accel: []cluster.AccelUse{{Month: "2026-12", NS: 1, Calls: 1}}}
	release := make(chan struct{})
	var status atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := int(status.Load())
		if s == 0 {
			<-release // proposed, and the answer is late
			s = http.StatusOK
		}
		w.WriteHeader(s)
	}))
	defer srv.Close()
	for _, tc := range []struct {
		status int
		maybe  bool
	}{{http.StatusOK, true}, {http.StatusConflict, true}, {http.StatusServiceUnavailable, false}, {0, true}} {
		status.Store(int32(tc.status))
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		if got := postAccel(ctx, srv.Client(), srv.URL, p); got != tc.maybe {
			t.Errorf("answer %d: may be in the log %v, want %v", tc.status, got, tc.maybe)
		}
		cancel()
	}
	close(release)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	if postAccel(context.Background(), http.DefaultClient, down.URL, p) {
		t.Error("an unreachable leader: may be in the log, want surely not")
	}
}
