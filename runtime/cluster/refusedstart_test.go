package cluster

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestRefusedStartFreesItsID starts a case whose start the log refuses
// (a replayed one-time key) and at once starts the same id again with
// a fresh key: the second start goes through, every time. It failed
// when the refused start's driver was still registered for a moment
// after its caller heard of the refusal: the retry took the id for a
// start in flight and waited for a case that never came.
func TestRefusedStartFreesItsID(t *testing.T) {
	c := newTestCluster(t, compile(t, testSource))
	l := c.add("n1", nil, nil)
	waitFor(t, "n1 to lead", l.IsLeader)
	now := time.Now()
	req := func(key string) ctxNonce { return ctxNonce{[]string{"acme\x00" + key}, now} }
	if err := l.Start(req("used").on(t), "", "first", "W", []any{"a"}); err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		id := fmt.Sprintf("c%d", i)
		if err := l.Start(req("used").on(t), "", id, "W", []any{"a"}); !errors.Is(err, ErrReplay) {
			t.Fatalf("start %s with a used key: %v, want a replay refusal", id, err)
		}
		if err := l.Start(req(id).on(t), "", id, "W", []any{"a"}); err != nil {
			t.Fatalf("start %s again with a fresh key: %v", id, err)
		}
	}
}
