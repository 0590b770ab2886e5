package tenant

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/audit"
	"github.com/knhk/knhk/server/auth"
)

// BenchmarkRefusedCallCost measures what the server spends on one call
// of a tenant at its rate, refused, through the audited front as knhk
// serve --tenants serves it: the token taken from the verified-token
// cache (tokencache.go, checked against revocations and the tenant's
// state), the bucket, the answer and the refusal's audit record, queued
// for a group commit (auditrefused.go; the log commits every
// millisecond here, so its write and fsync are in the figure, shared by
// the records of that millisecond). The request's context is already
// done, so the refusal is not held until the caller's turn: the hold is
// a sleeping goroutine and a timer, not CPU. Beside it, for scale, what
// the cache saves each call: verifying the token's signature.
//
//	go test ./server/tenant -run XXX -bench RefusedCallCost
func BenchmarkRefusedCallCost(b *testing.B) {
	f := newFixture(b, map[string]Quota{"acme": {Rate: 1e-6, Burst: 1}})
	log, err := audit.Open(f.data)
	if err != nil {
		b.Fatal(err)
	}
	defer log.Close()
	log.SetLaterDelay(time.Millisecond)
	front := f.host.Audited(log)
	tok := f.priv(auth.Principal{Subject: "n", Tenant: "acme", Role: auth.RoleAdmin})
	call := func(ctx context.Context) int {
		r := httptest.NewRequestWithContext(ctx, http.MethodPost, auth.ServicePath+"StartCase", strings.NewReader(`{"workflow":"Inc","inputJson":"1"}`))
		r.Header.Set("Authorization", "Bearer "+tok)
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		front.ServeHTTP(w, r)
		return w.Code
	}
	call(context.Background()) // the bucket's one token (no program: not found)
	done, cancel := context.WithCancel(context.Background())
	cancel()
	b.Run("refused", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if code := call(done); code != http.StatusTooManyRequests {
				b.Fatalf("status %d, want 429", code)
			}
		}
	})
	b.Run("verify-uncached", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := f.host.opts.Verifier.Verify(tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}
