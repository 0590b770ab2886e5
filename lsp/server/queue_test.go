package server

import (
	"strings"
	"testing"

	"go.lsp.dev/protocol"
)

// TestHoverQueueBinding: the queue binding's word is explained, like
// exec's.
func TestHoverQueueBinding(t *testing.T) {
	e := newEnv(t)
	u := e.open("pay.knhk", `package pay

task charge(cents: int) -> string queue "billing" retry 3
`)
	// "queue" starts at line 2, column 34.
	h, err := e.srv.Hover(e.ctx, &protocol.HoverParams{TextDocumentPositionParams: tdpp(u, pos(2, 35))})
	if err != nil {
		t.Fatal(err)
	}
	if text := hoverText(t, h); !strings.Contains(text, "external workers") || *h.Range != rng(2, 34, 2, 39) {
		t.Errorf("hover on queue = %q %v", text, *h.Range)
	}
}
