package license_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/license"
	"github.com/knhk/knhk/runtime/sign"
	"github.com/knhk/knhk/server"
)

const holdSrc = `package hold

workflow Hold(id: string) -> string {
  select {
    on signal Approve(by: string) -> { return id + " by " + by }
    on timer 48h -> { fail "nobody approved" }
  }
}
`

// TestConcurrentStartsNeverExceed starts many cases at once through the
// server's start path with a concurrent_cases limit: exactly the limit
// start, the rest are refused naming it, nothing half-started is left
// behind, and every admitted case finishes with its own result.
func TestConcurrentStartsNeverExceed(t *testing.T) {
	const limit, tries = 5, 24
	k, err := sign.Generate(license.Alg)
	if err != nil {
		t.Fatal(err)
	}
	n := int64(limit)
	now := time.Now().UTC()
	b, err := license.Issue(k, license.Payload{ID: "1", Customer: "acme", Tier: "t", Limits: license.Limits{ConcurrentCases: &n}, Issued: now, Expires: now.AddDate(0, 1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	l, err := license.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	enf := license.NewEnforcer(l)
	svc, err := server.Open(t.TempDir(), server.Options{IndexEvery: -1, AdmitStart: enf.AdmitStart})
	if err != nil {
		t.Fatal(err)
	}
	enf.Running = func() int {
		r := 0
		svc.CaseCounts(func(_, status string, k int) {
			if status == "running" {
				r += k
			}
		})
		return r
	}
	if _, err := svc.Deploy("hold.knhk", []byte(holdSrc), nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var (
		mu      sync.Mutex
		started = map[string]string{} // case id -> input
		refused int
		wg      sync.WaitGroup
	)
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := fmt.Sprintf("c%d", i)
			id, _, err := svc.Start(ctx, server.StartRequest{Workflow: "Hold", Input: []byte(`"` + in + `"`)})
			mu.Lock()
			defer mu.Unlock()
			var le *license.LimitError
			switch {
			case err == nil:
				started[id] = in
			case errors.As(err, &le) && le.Limit == license.LimitConcurrentCases:
				refused++
			default:
				t.Errorf("start %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if len(started) != limit || refused != tries-limit {
		t.Fatalf("%d started, %d refused; want %d and %d", len(started), refused, limit, tries-limit)
	}
	list, _, err := svc.List(server.ListRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != limit {
		t.Errorf("the server lists %d cases, want %d: a refused start left a case behind", len(list), limit)
	}
	for id, in := range started {
		if _, err := svc.Signal(ctx, id, "Approve", []byte(`"ann"`)); err != nil {
			t.Fatal(err)
		}
		sum, done, err := svc.Wait(ctx, id, false)
		if err != nil || !done || sum.Status != "completed" || sum.Result != `"`+in+` by ann"` {
			t.Errorf("case %s: %+v %v", id, sum, err)
		}
	}
	// All ended: the limit admits again.
	if _, _, err := svc.Start(ctx, server.StartRequest{Workflow: "Hold", Input: []byte(`"again"`)}); err != nil {
		t.Errorf("start after every case ended: %v", err)
	}
	if err := svc.Close(ctx); err != nil {
		t.Fatal(err)
	}
}
