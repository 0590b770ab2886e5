package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/client"
)

// TestClusterHistoryExportAndKeys drives a case through a follower with
// the Go client, as knhk run/history/export --server do: a keyed start
// is idempotent, the history pages and streams (the stream follows the
// case through a follower as it advances), the export holds the case,
// the listing finds it by its key's text, and a stale read on a
// follower answers from that node's copy.
func TestClusterHistoryExportAndKeys(t *testing.T) {
	nodes := apiCluster(t)
	api := client.New(nodes["n3"].srv.URL).API()
	c := context.Background()
	start := func(req string, waitMs int64) *knhkv1.StartCaseResponse {
		t.Helper()
		var out *knhkv1.StartCaseResponse
		waitCluster(t, "the start of "+req, func() bool {
			r, err := api.StartCase(c, connect.NewRequest(&knhkv1.StartCaseRequest{Workflow: "Hold", InputJson: `"o-17"`, RequestId: req, BusinessKey: "order-17", WaitMs: waitMs}))
			if err != nil {
				if connect.CodeOf(err) != connect.CodeUnavailable {
					t.Fatalf("start %s: %v", req, err)
				}
				return false
			}
			out = r.Msg
			return true
		})
		return out
	}
	first := start("r1", 0)
	again := start("r2", 0) // another request, the same key
	if first.Existing || !again.Existing || again.CaseId != first.CaseId {
		t.Fatalf("keyed starts: %+v then %+v", first, again)
	}
	// With wait_ms the answer says where the case stands once the wait
	// is up: Hold waits for a signal.
	if w := start("r2", 50); w.CaseId != first.CaseId || w.Done || w.Case.GetStatus() != "running" || w.Case.GetCaseId() != first.CaseId {
		t.Fatalf("keyed start with wait_ms: %+v", w)
	}
	id := first.CaseId

	// The watch runs through the follower while the case waits.
	wctx, cancel := context.WithTimeout(c, time.Minute)
	defer cancel()
	stream, err := api.WatchHistory(wctx, connect.NewRequest(&knhkv1.WatchHistoryRequest{CaseId: id, Detail: true}))
	if err != nil {
		t.Fatal(err)
	}
	if !stream.Receive() {
		t.Fatalf("no first entry from the watch: %v", stream.Err())
	}
	if k := stream.Msg().Kind; k != "start" {
		t.Fatalf("first watched entry is %q, want start", k)
	}
	if _, err := api.SignalCase(c, connect.NewRequest(&knhkv1.SignalCaseRequest{CaseId: id, Name: "Approve", PayloadJson: `{"by":"ann"}`})); err != nil {
		t.Fatal(err)
	}
	watched := []string{"start"}
	for stream.Receive() {
		watched = append(watched, stream.Msg().Kind)
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("watch: %v", err)
	}

	// The whole history, then one entry a page: the same entries.
	h, err := api.GetHistory(c, connect.NewRequest(&knhkv1.GetHistoryRequest{CaseId: id, Detail: true}))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range h.Msg.Entries {
		kinds = append(kinds, e.Kind)
	}
	if strings.Join(kinds, ",") != strings.Join(watched, ",") || len(kinds) < 4 {
		t.Fatalf("history %v, watched %v", kinds, watched)
	}
	var signal *knhkv1.HistoryEntry
	for _, e := range h.Msg.Entries {
		if e.Kind == "signal" {
			signal = e
		}
	}
	if signal == nil || signal.Step != "Approve" || signal.Seq <= h.Msg.Entries[0].Seq {
		t.Fatalf("the signal's entry: %+v", signal)
	}
	var paged []string
	for from := int64(0); ; {
		p, err := api.GetHistory(c, connect.NewRequest(&knhkv1.GetHistoryRequest{CaseId: id, From: from, PageSize: 1, Detail: true}))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Msg.Entries {
			paged = append(paged, e.Kind)
		}
		if from = p.Msg.Next; from == 0 {
			break
		}
	}
	if strings.Join(paged, ",") != strings.Join(kinds, ",") {
		t.Fatalf("paged %v, want %v", paged, kinds)
	}
	// The user-level history (no detail) names the steps too.
	if u, err := api.GetHistory(c, connect.NewRequest(&knhkv1.GetHistoryRequest{CaseId: id})); err != nil || len(u.Msg.Entries) == 0 {
		t.Fatalf("user-level history: %v %v", u, err)
	}

	for _, f := range []string{"xes", "csv"} {
		x, err := api.Export(c, connect.NewRequest(&knhkv1.ExportRequest{Format: f}))
		if err != nil {
			t.Fatal(err)
		}
		if s := string(x.Msg.Data); !strings.Contains(s, id) || !strings.Contains(s, "Approve") {
			t.Fatalf("%s export lacks the case: %s", f, s)
		}
	}
	if _, err := api.Export(c, connect.NewRequest(&knhkv1.ExportRequest{Format: "pdf"})); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("export as pdf: %v", err)
	}
	if _, err := api.GetHistory(c, connect.NewRequest(&knhkv1.GetHistoryRequest{CaseId: "nope"})); connect.CodeOf(err) != connect.CodeNotFound {
		t.Fatalf("history of an unknown case: %v", err)
	}

	for sub, want := range map[string]int{"der-1": 1, "order-17": 1, "invoice": 0} {
		l, err := api.ListCases(c, connect.NewRequest(&knhkv1.ListCasesRequest{KeyContains: sub}))
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Msg.Cases) != want || want == 1 && (l.Msg.Cases[0].CaseId != id || l.Msg.Cases[0].BusinessKey != "order-17") {
			t.Fatalf("cases whose key contains %q: %v", sub, l.Msg.Cases)
		}
	}

	// A stale read on a follower answers from its own copy.
	stale := connect.NewRequest(&knhkv1.GetHistoryRequest{CaseId: id, Detail: true})
	stale.Header().Set(ConsistencyHeader, "stale")
	waitCluster(t, "the whole history on n2", func() bool {
		s, err := client.New(nodes["n2"].srv.URL).API().GetHistory(c, stale)
		return err == nil && len(s.Msg.Entries) == len(kinds)
	})
}
