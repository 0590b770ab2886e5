package bft

import (
	"context"
	"fmt"
	"testing"
)

// TestManyWritesAtOnce: a driver starts twelve cases at once on four
// validators configured as Open configures them. Each write waits for
// its block with a subscription of the node's local client, and
// CometBFT allows five per client by default: every start commits, on
// every validator.
func TestManyWritesAtOnce(t *testing.T) {
	prog := compile(t)
	vs := network(t, prog, 4, -1, nil)
	eng := driver(t, prog, vs[0])
	ctx, cancel := context.WithTimeout(context.Background(), 3*loadedWait)
	defer cancel()
	const n = 12
	errs := make(chan error, n)
	for i := range n {
		go func() { id := fmt.Sprint("c", i); errs <- eng.Start(ctx, id, "W", []any{id}) }()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("a start of %d at once: %v", n, err)
		}
	}
	for i, v := range vs {
		waitFor(t, fmt.Sprintf("the %d cases on validator %d", n, i), func() bool {
			for j := range n {
				if v.app.FSM().Events(fmt.Sprint("c", j)) == 0 {
					return false
				}
			}
			return true
		})
	}
}
