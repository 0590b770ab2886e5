// This file tests the crash test's checks: a clean run passes them and
// damaged runs (a lost or repeated transition, a lost effect, a repeat
// under another key) do not, so a passing crash test means something.

package durable

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/knhk/knhk/runtime/engine"
)

func TestChecksCatchDamage(t *testing.T) {
	id := "r0-case00"
	r := cleanRun(t, id)
	e, events, tr, path := r.e, r.events, r.tr, r.effects
	// The workload exercises what it claims to: the ten steps, both
	// parallel branches, the failed and retried attempt, and five
	// instances of the loop body.
	count := func(prefix string) int {
		n := 0
		for _, l := range tr {
			if strings.HasPrefix(l, prefix) {
				n++
			}
		}
		return n
	}
	if n := count("failed "); n != 1 {
		t.Errorf("%d failed attempts, want 1: %q", n, tr)
	}
	if n := count("retry "); n != 1 {
		t.Errorf("%d retries, want 1: %q", n, tr)
	}
	if n := count("done "); n != 12+1+5 {
		t.Errorf("%d completed calls, want 18: %q", n, tr)
	}
	if !reflect.DeepEqual(tr, cleanTransitions(t, id)) {
		t.Errorf("two clean runs fire different transitions")
	}
	// Dropping the first call's completion, or applying it twice, changes
	// the multiset the crash test compares.
	last := slices.IndexFunc(events, func(ev *engine.Event) bool { return ev.Kind == engine.EvDone })
	dropped := slices.Delete(slices.Clone(events), last, last+1)
	if got, err := transitions(e.Machine(), id, dropped); err == nil && reflect.DeepEqual(got, tr) {
		t.Errorf("a lost completion went unnoticed")
	}
	twice := slices.Insert(slices.Clone(events), last, events[last])
	if got, err := transitions(e.Machine(), id, twice); err == nil && reflect.DeepEqual(got, tr) {
		t.Errorf("a completion applied twice went unnoticed")
	}

	effects := readEffects(t, path)[id]
	if rep, problems := checkEffects(id, effects); rep != 0 || problems != nil {
		t.Fatalf("clean effects: %d repeats, %q", rep, problems)
	}
	if rep, problems := checkEffects(id, append(slices.Clone(effects), effects[0])); rep != 1 || problems != nil {
		t.Errorf("a redelivery with its key: %d repeats, %q", rep, problems)
	}
	if _, problems := checkEffects(id, append(slices.Clone(effects), effect{effects[0].label, "other"})); len(problems) == 0 {
		t.Errorf("a redelivery under another key went unnoticed")
	}
	if _, problems := checkEffects(id, effects[1:]); len(problems) == 0 {
		t.Errorf("a lost effect went unnoticed")
	}
}
