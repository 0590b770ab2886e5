package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
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

// TestPostAccelInTheLog checks that a follower's post counts as done
// only when the leader answers that its time is in the log: any other
// answer, none in time (the leader may have proposed it: its proposal
// does not end with the request) or an unreachable leader sends the
// batch again, with its request id, which the log counts once.
func TestPostAccelInTheLog(t *testing.T) {
	p := accelPost{ID: "accel-1", Accel: []cluster.AccelUse{{Month: "2026-12", NS: 1, Calls: 1}}}
	release := make(chan struct{})
	var status atomic.Int32
	var ids []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var got accelPost
		json.NewDecoder(r.Body).Decode(&got)
		mu.Lock()
		ids = append(ids, got.ID)
		mu.Unlock()
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
		done   bool
	}{{http.StatusOK, true}, {http.StatusConflict, false}, {http.StatusServiceUnavailable, false}, {0, false}} {
		status.Store(int32(tc.status))
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		if got := postAccel(ctx, srv.Client(), srv.URL, p); got != tc.done {
			t.Errorf("answer %d: done %v, want %v", tc.status, got, tc.done)
		}
		cancel()
	}
	close(release)
	mu.Lock()
	for _, id := range ids {
		if id != p.ID {
			t.Errorf("the leader got request id %q, want %q", id, p.ID)
		}
	}
	mu.Unlock()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	if postAccel(context.Background(), http.DefaultClient, down.URL, p) {
		t.Error("an unreachable leader: done, want sent again")
	}
}
