package server

import (
	"context"
	"slices"
	"testing"
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/client"
)

// BenchmarkClusterHistory reads one case's history from a three-node
// cluster (in-memory raft, HTTP on loopback) three ways: linearizable
// on the leader (one VerifyLeader round of heartbeats), linearizable
// through a follower (forwarded to the leader), and stale on the
// follower (its own copy). It reports each way's median latency and
// its ratio to the stale read measured in the same run.
func BenchmarkClusterHistory(b *testing.B) {
	nodes := apiCluster(b)
	var leader, follower string
	for id, a := range nodes {
		if a.n.IsLeader() {
			leader = id
		} else {
			follower = id
		}
	}
	c := context.Background()
	r, err := client.New(nodes[leader].srv.URL).API().StartCase(c, connect.NewRequest(&knhkv1.StartCaseRequest{Workflow: "Hold", InputJson: `"h"`}))
	if err != nil {
		b.Fatal(err)
	}
	id := r.Msg.CaseId
	read := func(url string, stale bool) time.Duration {
		req := connect.NewRequest(&knhkv1.GetHistoryRequest{CaseId: id, Detail: true})
		if stale {
			req.Header().Set(ConsistencyHeader, "stale")
		}
		start := time.Now()
		if _, err := client.New(url).API().GetHistory(c, req); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	ways := []struct {
		name  string
		url   string
		stale bool
	}{{"stale-follower", nodes[follower].srv.URL, true}, {"linearizable-leader", nodes[leader].srv.URL, false}, {"linearizable-follower", nodes[follower].srv.URL, false}}
	medians := map[string]time.Duration{}
	for _, w := range ways {
		b.Run(w.name, func(b *testing.B) {
			var ds []time.Duration
			for b.Loop() {
				ds = append(ds, read(w.url, w.stale))
			}
			slices.Sort(ds)
			m := ds[len(ds)/2]
			medians[w.name] = m
			b.ReportMetric(float64(m.Microseconds()), "p50-µs")
			if base := medians["stale-follower"]; base > 0 {
				b.ReportMetric(float64(m)/float64(base), "x-stale")
			}
		})
	}
}
