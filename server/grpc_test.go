package server

import (
	"context"
	"net/http/httptest"
	"testing"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/client"
)

// TestGRPC: the same handler answers gRPC (over HTTP/2) and gRPC-Web
// clients, errors included.
func TestGRPC(t *testing.T) {
	s := open(t, t.TempDir())
	defer closeSvc(t, s)
	deploy(t, s)
	ts := httptest.NewUnstartedServer(NewMux(s, MuxOptions{Token: "t"}))
	ts.EnableHTTP2 = true
	ts.StartTLS()
	defer ts.Close()
	ctx := context.Background()
	for name, opt := range map[string]client.Option{"grpc": client.WithGRPC(), "grpc-web": client.WithGRPCWeb()} {
		c := client.New(ts.URL, client.WithHTTPClient(ts.Client()), client.WithToken("t"), opt)
		r, err := c.Start(ctx, &knhkv1.StartCaseRequest{Workflow: "Inc", InputJson: "1"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if sum, err := c.Wait(ctx, r.CaseId); err != nil || sum.ResultJson != "2" {
			t.Fatalf("%s: %+v %v", name, sum, err)
		}
		_, err = c.Start(ctx, &knhkv1.StartCaseRequest{Workflow: "Inc", InputJson: `"x"`})
		if bi := client.BadInput(err); bi == nil || bi.Field != "input_json" || client.Code(err).String() != "invalid_argument" {
			t.Fatalf("%s: bad input: %v", name, err)
		}
		bad := client.New(ts.URL, client.WithHTTPClient(ts.Client()), client.WithToken("u"), opt)
		if _, err := bad.Get(ctx, r.CaseId); client.Code(err).String() != "unauthenticated" {
			t.Fatalf("%s: wrong token: %v", name, err)
		}
	}
}
