package tenant

import (
	"context"
	"testing"
	"time"

	"connectrpc.com/connect"

	knhkv1 "github.com/knhk/knhk/api/knhk/v1"
	"github.com/knhk/knhk/server/auth"
)

// TestStartWaitFreesSlot: a start that waits for its case (wait_ms)
// holds its tenant's in-flight slot only while it starts: with one slot,
// the tenant still finds and signals the case while the start waits, and
// the start then answers with the result.
func TestStartWaitFreesSlot(t *testing.T) {
	f := newFixture(t, map[string]Quota{"acme": {InFlight: 1}})
	c := f.client(f.priv(auth.Principal{Subject: "alice", Tenant: "acme", Role: auth.RoleAdmin}))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := c.Deploy(ctx, connect.NewRequest(&knhkv1.DeployRequest{Name: "two.knhk", Source: testSrc})); err != nil {
		t.Fatal(err)
	}
	type answer struct {
		r   *connect.Response[knhkv1.StartCaseResponse]
		err error
	}
	started := make(chan answer, 1)
	go func() {
		r, err := c.StartCase(ctx, connect.NewRequest(&knhkv1.StartCaseRequest{Workflow: "Hold", InputJson: `"h"`, BusinessKey: "held-1", WaitMs: 10000}))
		started <- answer{r, err}
	}()
	// Each of these calls needs the tenant's one slot.
	var id string
	for id == "" {
		l, err := c.ListCases(ctx, connect.NewRequest(&knhkv1.ListCasesRequest{KeyContains: "held-1"}))
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Msg.Cases) == 1 && l.Msg.Cases[0].Idle {
			id = l.Msg.Cases[0].CaseId
		}
		select {
		case a := <-started:
			t.Fatalf("the start answered before the case was signalled: %+v %v", a.r, a.err)
		default:
		}
	}
	if _, err := c.SignalCase(ctx, connect.NewRequest(&knhkv1.SignalCaseRequest{CaseId: id, Name: "Approve", PayloadJson: `{"by":"ann"}`})); err != nil {
		t.Fatal(err)
	}
	a := <-started
	if a.err != nil || !a.r.Msg.Done || a.r.Msg.CaseId != id || a.r.Msg.Case.GetResultJson() != `"h by ann"` {
		t.Fatalf("start with wait_ms: %+v %v", a.r, a.err)
	}
}
