// This file tests that the cases of knhk serve choose with the policies
// of the data directory, train them and keep them across a restart.

package server

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/knhk/knhk/runtime/learn"
)

const routeSrc = `package r

task fast(n: int) -> int exec "sh" "-c" "cat >/dev/null; echo 1"
task slow(n: int) -> int exec "sh" "-c" "cat >/dev/null; sleep 0.2; echo 2"

workflow Ship(region: string, n: int) {
  route learn carrier(region, n) among { slow(n), fast(n) } reward -float(duration / 1ms)
}
`

// TestServeLearnsRoute: the cases a Service runs choose with the data
// directory's policy and train it; Close saves it, and the next Open
// chooses with what was learned.
func TestServeLearnsRoute(t *testing.T) {
	dir := t.TempDir()
	// Greedy, so that what the policy picks is certain.
	if err := os.MkdirAll(filepath.Join(dir, "learn"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, learn.ConfigFile), []byte(`{"default":{"policy":"epsilon-greedy","epsilon":1e-9}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	s := open(t, dir)
	if _, err := s.Deploy("r.knhk", []byte(routeSrc), nil); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		id, _, err := s.Start(context.Background(), StartRequest{Workflow: "Ship", Input: []byte(`{"region":"eu","n":2}`)})
		if err != nil {
			t.Fatal(err)
		}
		if sum := wait(t, s, id); sum.Status != "completed" {
			t.Fatalf("case: %+v", sum)
		}
	}
	closeSvc(t, s)
	f, err := learn.ReadFile(learn.PolicyPath(dir, "carrier"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Updates != 4 {
		t.Errorf("the policy learned from %d outcomes, want 4", f.Updates)
	}
	prefs := f.Preferences()
	if len(prefs) != 1 || f.Signature.Candidates[prefs[0].Best] != "fast" {
		t.Errorf("the policy prefers %+v of %v, want fast", prefs, f.Signature.Candidates)
	}
	// After a restart the route takes the faster candidate at once.
	s = open(t, dir)
	id, _, err := s.Start(context.Background(), StartRequest{Workflow: "Ship", Input: []byte(`{"region":"eu","n":2}`)})
	if err != nil {
		t.Fatal(err)
	}
	wait(t, s, id)
	closeSvc(t, s)
	g, err := learn.ReadFile(learn.PolicyPath(dir, "carrier"))
	if err != nil {
		t.Fatal(err)
	}
	if g.Updates != 5 || g.State.Table[prefs[0].State][1].N != f.State.Table[prefs[0].State][1].N+1 {
		t.Errorf("after the restart: %d updates, fast chosen %v times, before %v; want 5 and one more", g.Updates, g.State.Table[prefs[0].State][1].N, f.State.Table[prefs[0].State][1].N)
	}
}
