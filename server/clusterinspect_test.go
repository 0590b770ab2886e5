package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestClusterInspect reads a finished case as the web console does:
// on the leader from the replicated events; a follower answers
// Unavailable, naming the leader; programs are found by hash.
func TestClusterInspect(t *testing.T) {
	nodes := apiCluster(t)
	var leader, follower *apiNode
	waitCluster(t, "a leader", func() bool {
		for _, a := range nodes {
			if a.n.IsLeader() {
				leader = a
			} else {
				follower = a
			}
		}
		return leader != nil && follower != nil
	})
	waitCluster(t, "a start", func() bool {
		code, _ := call(t, http.MethodPost, leader.srv.URL+"/cluster/v1/cases", []byte(`{"id":"i1","workflow":"Hold","input":"i1","key":"inv-1"}`))
		return code == http.StatusOK
	})
	if code, out := call(t, http.MethodPost, leader.srv.URL+"/cluster/v1/cases/i1/signal", []byte(`{"name":"Approve","payload":{"by":"ann"}}`)); code != http.StatusOK {
		t.Fatalf("signal: %d %s", code, out)
	}
	c := context.Background()
	var in *Inspection
	waitCluster(t, "i1 to complete", func() bool {
		var err error
		in, err = leader.api.Inspect(c, "i1")
		if err != nil {
			t.Fatal(err)
		}
		return in.Summary.Status == "completed"
	})
	if in.Summary.Result != `"i1 by ann"` || in.Summary.Key != "inv-1" || in.Summary.Workflow != "Hold" || in.Input != `{"id":"i1"}` {
		t.Fatalf("inspection: %+v input %s", in.Summary, in.Input)
	}
	if in.Events != int64(len(in.History)) || len(in.Fired) == 0 {
		t.Fatalf("%d events, %d entries, fired %v", in.Events, len(in.History), in.Fired)
	}
	var kinds []string
	for _, h := range in.History {
		kinds = append(kinds, h.Kind+" "+h.Step)
	}
	if !strings.Contains(strings.Join(kinds, ","), "signal Approve") {
		t.Fatalf("history %v", kinds)
	}
	var se *Error
	if _, err := follower.api.Inspect(c, "i1"); !errors.As(err, &se) || se.Code != CodeUnavailable || !strings.Contains(se.Message, leader.srv.URL) {
		t.Fatalf("inspect on a follower: %v", err)
	}
	if _, err := leader.api.Inspect(c, "zz"); !errors.As(err, &se) || se.Code != CodeNotFound {
		t.Fatalf("inspect of no case: %v", err)
	}
	p, err := leader.api.ProgramByHash(in.Summary.Program)
	if err != nil || p.Prog() == nil || strings.Join(p.Workflows, ",") != "Hold" {
		t.Fatalf("program: %+v %v", p, err)
	}
	if _, err := leader.api.ProgramByHash("nope"); !errors.As(err, &se) || se.Code != CodeNotFound {
		t.Fatalf("unknown program: %v", err)
	}
}
