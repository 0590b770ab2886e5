package server

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"connectrpc.com/connect"
	"github.com/cometbft/cometbft/crypto/ed25519"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/api/knhk/v1/knhkv1connect"
	"github.com/knhk/knhk/runtime/cluster"
	"github.com/knhk/knhk/runtime/cluster/bft"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
)

// TestBFTHistoryExport: a validator that does not drive answers a
// case's history and its export from its own blocks, through Connect;
// an unknown case is NotFound, an unknown format InvalidArgument.
func TestBFTHistoryExport(t *testing.T) {
	drv := ed25519.GenPrivKey()
	c := newBFTChain(t, drv)
	c.block(nil, c.tx(drv, &bft.Tx{Kind: bft.KindLease, Term: 1, API: "http://127.0.0.1:1"}), c.start(drv, "c1"))
	sig, _ := engine.EncodeEvent(&engine.Event{Kind: engine.EvSignal, Name: "Approve", Values: eval.Values("ann")})
	cmd, _ := (&cluster.Command{Op: cluster.OpEvent, Program: c.hash, Case: "c1", Pos: 1, Event: sig}).Encode()
	c.block(nil, c.tx(drv, &bft.Tx{Kind: bft.KindEvent, Term: 1, Cmd: cmd}))
	srv := httptest.NewServer(NewBFTAPI("v1", c.app, nil, c.app.Height, c.prog))
	defer srv.Close()
	api := knhkv1connect.NewKnhkServiceClient(srv.Client(), srv.URL)
	ctx := context.Background()

	h, err := api.GetHistory(ctx, connect.NewRequest(&knhkv1.GetHistoryRequest{CaseId: "c1", Detail: true}))
	if err != nil {
		t.Fatal(err)
	}
	if e := h.Msg.Entries; len(e) != 2 || e[0].Kind != "start" || e[0].Step != "Hold" || e[1].Kind != "signal" || e[1].Step != "Approve" || h.Msg.Next != 0 {
		t.Fatalf("history of c1: %v", h.Msg)
	}
	if one, err := api.GetHistory(ctx, connect.NewRequest(&knhkv1.GetHistoryRequest{CaseId: "c1", Detail: true, PageSize: 1})); err != nil || len(one.Msg.Entries) != 1 || one.Msg.Next != 1 {
		t.Fatalf("a page of one: %v %v", one, err)
	}
	if _, err := api.GetHistory(ctx, connect.NewRequest(&knhkv1.GetHistoryRequest{CaseId: "nope"})); connect.CodeOf(err) != connect.CodeNotFound {
		t.Fatalf("history of an unknown case: %v", err)
	}
	if _, err := api.GetHistory(ctx, connect.NewRequest(&knhkv1.GetHistoryRequest{CaseId: "c1", From: -1})); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("history from -1: %v", err)
	}
	x, err := api.Export(ctx, connect.NewRequest(&knhkv1.ExportRequest{Format: "csv"}))
	if err != nil || !strings.Contains(string(x.Msg.Data), "\nc1,signal Approve,complete,") {
		t.Fatalf("export: %v %q", err, x)
	}
	if x, err := api.Export(ctx, connect.NewRequest(&knhkv1.ExportRequest{Format: "xes", CaseIds: []string{"c1"}})); err != nil || !strings.Contains(string(x.Msg.Data), "<log") {
		t.Fatalf("xes export: %v %v", err, x)
	}
	if _, err := api.Export(ctx, connect.NewRequest(&knhkv1.ExportRequest{Format: "pdf"})); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("export as pdf: %v", err)
	}
	if _, err := api.Export(ctx, connect.NewRequest(&knhkv1.ExportRequest{Format: "csv", CaseIds: []string{"nope"}})); connect.CodeOf(err) != connect.CodeNotFound {
		t.Fatalf("export of an unknown case: %v", err)
	}
}
