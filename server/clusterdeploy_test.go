package server

import (
	"context"
	"errors"
	"strings"
	"testing"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/client"
)

// TestClusterDeploy deploys a second version of the program through a
// follower with the Go client: starts then run it, a case started
// before keeps its version, both read back through another node with
// their own program's names, and a source the gate refuses is refused
// with its diagnostics.
func TestClusterDeploy(t *testing.T) {
	nodes := apiCluster(t)
	api := client.New(nodes["n3"].srv.URL).API()
	c := context.Background()
	retry := func(what string, f func() error) {
		t.Helper()
		var err error
		waitCluster(t, what, func() bool {
			err = f()
			return connect.CodeOf(err) != connect.CodeUnavailable
		})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	start := func(input string) string {
		var id string
		retry("start "+input, func() error {
			r, err := api.StartCase(c, connect.NewRequest(&knhkv1.StartCaseRequest{Workflow: "Hold", InputJson: input, RequestId: "start " + input}))
			if err == nil {
				id = r.Msg.CaseId
			}
			return err
		})
		return id
	}
	old := start(`"old"`)
	v2 := strings.Replace(clusterSrc, `" by "`, `" approved by "`, 1)
	var dep *knhkv1.DeployResponse
	retry("deploy", func() error {
		r, err := api.Deploy(c, connect.NewRequest(&knhkv1.DeployRequest{Name: "v2.knhk", Source: v2}))
		if err == nil {
			dep = r.Msg
		}
		return err
	})
	if dep.Hash == nodes["n1"].n.ProgramHash() || strings.Join(dep.Workflows, ",") != "Hold" {
		t.Fatalf("deploy: %+v", dep)
	}
	nw := start(`"new"`)
	for _, id := range []string{old, nw} {
		if _, err := api.SignalCase(c, connect.NewRequest(&knhkv1.SignalCaseRequest{CaseId: id, Name: "Approve", PayloadJson: `{"by":"ann"}`})); err != nil {
			t.Fatal(err)
		}
	}
	other := client.New(nodes["n2"].srv.URL).API()
	for id, want := range map[string]string{old: `"old by ann"`, nw: `"new approved by ann"`} {
		r, err := other.WaitCase(c, connect.NewRequest(&knhkv1.WaitCaseRequest{CaseId: id}))
		if err != nil || r.Msg.Case.ResultJson != want {
			t.Fatalf("case %s: %v %v, want %s", id, r, err, want)
		}
		if id == nw && r.Msg.Case.Program != dep.Hash || id == old && r.Msg.Case.Program == dep.Hash {
			t.Fatalf("case %s runs %s (the deploy is %s)", id, r.Msg.Case.Program, dep.Hash)
		}
		h, err := other.GetHistory(c, connect.NewRequest(&knhkv1.GetHistoryRequest{CaseId: id, Detail: true}))
		if err != nil || len(h.Msg.Entries) == 0 || h.Msg.Entries[0].Step != "Hold" {
			t.Fatalf("history of %s: %v %v", id, h, err)
		}
	}
	// The web console shows the deployed source, read on any node.
	for _, nd := range nodes {
		p, err := nd.api.ProgramByHash(dep.Hash)
		if err != nil || p.Name != "v2.knhk" || len(p.Files()) != 1 || string(p.Files()[0].Content) != v2 || !strings.Contains(p.Text(p.Prog().Nets[0].Loc), "Hold") {
			t.Fatalf("ProgramByHash of the deploy on a node: %+v %v", p, err)
		}
	}
	progs, err := other.ListPrograms(c, connect.NewRequest(&knhkv1.ListProgramsRequest{}))
	if err != nil || len(progs.Msg.Programs) != 2 || progs.Msg.Programs[0].Hash != dep.Hash {
		t.Fatalf("programs: %v %v", progs, err)
	}
	_, err = api.Deploy(c, connect.NewRequest(&knhkv1.DeployRequest{Name: "bad.knhk", Source: "package app\nworkflow Hold() -> int { return \"s\" }\n"}))
	var ce *connect.Error
	if connect.CodeOf(err) != connect.CodeInvalidArgument || !errors.As(err, &ce) || len(ce.Details()) == 0 || !strings.Contains(err.Error(), "bad.knhk") {
		t.Fatalf("a source that does not check: %v", err)
	}
	if _, err := api.Deploy(c, connect.NewRequest(&knhkv1.DeployRequest{Compiled: []byte{1}})); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("a descriptor: %v", err)
	}
}
