package discover_test

import (
	"strings"
	"testing"

	"github.com/knhk/knhk/runtime/discover"
)

func TestReadPTMLErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`<ptml>`, "bad ptml: XML syntax error"},
		{`<ptml><processTree root="r"><or id="r"/></processTree></ptml>`, "unsupported kind <or>"},
		{`<ptml><processTree root="x"><manualTask id="r" name="a"/></processTree></ptml>`, `no root node "x"`},
		{`<ptml><processTree root="r"><sequence id="r"/><parentsNode id="p" sourceId="r" targetId="r"/></processTree></ptml>`, "two parents or is its own ancestor"},
		{`<ptml><processTree root="r"><sequence id="r"/><parentsNode id="p" sourceId="r" targetId="q"/></processTree></ptml>`, `unknown node "r" or "q"`},
		{`<ptml><processTree root="r"><xorLoop id="r"/><manualTask id="a" name="a"/><parentsNode id="p" sourceId="r" targetId="a"/></processTree></ptml>`, "xorLoop with 1 children"},
	} {
		_, err := discover.ReadPTML(strings.NewReader(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %s", c.in, err, c.want)
		}
	}
}

// FuzzReadPTML: a tree that reads is a tree (no cycles) whose canonical
// form is stable, and it scores and prints without panicking.
func FuzzReadPTML(f *testing.F) {
	f.Add(`<ptml><processTree root="r"><sequence id="r"/><manualTask id="a" name="a"/><automaticTask id="t" name="tau"/><parentsNode id="1" sourceId="r" targetId="a"/><parentsNode id="2" sourceId="r" targetId="t"/></processTree></ptml>`)
	f.Add(`<ptml><processTree root="r"><xorLoop id="r"/><manualTask id="a" name="a"/><manualTask id="b" name="b"/><automaticTask id="t" name="tau"/><parentsNode id="1" sourceId="r" targetId="a"/><parentsNode id="2" sourceId="r" targetId="b"/><parentsNode id="3" sourceId="r" targetId="t"/></processTree></ptml>`)
	f.Fuzz(func(t *testing.T, in string) {
		n, err := discover.ReadPTML(strings.NewReader(in))
		if err != nil {
			return
		}
		c := n.Canonical()
		if c.Canonical().String() != c.String() {
			t.Fatalf("canonical form not stable: %s -> %s", c, c.Canonical())
		}
		discover.Evaluate(n, logOf("a b", "b a"))
		discover.Knhk(n, discover.Header{Log: "f"})
	})
}
