package tenant

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/server/auth"
)

// countingBody counts the bytes the server reads of a request's body.
type countingBody struct {
	r io.Reader
	n *atomic.Int64
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func (countingBody) Close() error { return nil }

// TestAuditRefusedCheap: through the audited front (as knhk serve
// --tenants serves), a call refused for its tenant's rate has no byte of
// its body read and no audit commit of its own, and is still audited
// with who made it and its result, durable once the Host closes; an
// admitted call's record still names its targets, read from its body.
func TestAuditRefusedCheap(t *testing.T) {
	f := newFixture(t, map[string]Quota{"acme": {Rate: 0.01, Burst: 1}})
	log, err := audit.Open(f.data)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	front := f.host.Audited(log)
	tok := f.priv(auth.Principal{Subject: "alice", Tenant: "acme", Role: auth.RoleAdmin})
	call := func(n *atomic.Int64) int {
		body := `{"caseId":"c-42"}`
		req := httptest.NewRequest("POST", auth.ServicePath+"GetCase", countingBody{strings.NewReader(body), n})
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		front.ServeHTTP(w, req)
		return w.Code
	}
	var admitted atomic.Int64
	if code := call(&admitted); code == http.StatusTooManyRequests {
		t.Fatalf("the first call (the bucket's one token) was refused")
	}
	if admitted.Load() == 0 {
		t.Fatal("the admitted call's body was not read")
	}
	// No timer commits the refusals' records in this test: only Close.
	log.SetLaterDelay(time.Hour)
	commits := log.Commits()
	const refusals = 5
	var read atomic.Int64
	for i := 0; i < refusals; i++ {
		if code := call(&read); code != http.StatusTooManyRequests {
			t.Fatalf("call %d past the rate answered %d, want 429", i, code)
		}
	}
	if read.Load() != 0 {
		t.Fatalf("the refused calls had %d bytes of their bodies read", read.Load())
	}
	if err := f.host.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// The refusals cost no commit of their own: Close wrote them in one.
	if n := log.Commits() - commits; n != 1 {
		t.Fatalf("%d refusals took %d audit commits, want 1", refusals, n)
	}
	recs, err := audit.ReadAll(f.data)
	if err != nil {
		t.Fatal(err)
	}
	var ok, refused int
	for _, r := range recs {
		if r.Action != auth.ServicePath+"GetCase" || r.Tenant != "acme" || r.Subject != "alice" {
			continue
		}
		switch r.Result {
		case connect.CodeResourceExhausted.String():
			refused++
			if len(r.Targets) != 0 || !strings.Contains(r.Detail, "rate for tenant acme") {
				t.Errorf("refused call's record: targets %v, detail %q", r.Targets, r.Detail)
			}
		default:
			ok++
			if strings.Join(r.Targets, ",") != "case_id=c-42" {
				t.Errorf("admitted call's record names %v, want case_id=c-42", r.Targets)
			}
		}
	}
	if ok != 1 || refused != refusals {
		t.Fatalf("audit log holds %d admitted and %d refused GetCase records, want 1 and %d", ok, refused, refusals)
	}
}
