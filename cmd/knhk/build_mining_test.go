// This file tests std/mining in a binary made by knhk build: its run and
// its signal answer a mining query from the data directory, as knhk's.

package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// minedLater asks about a case only after a signal, so that the
// binary's signal runs the query.
const minedLater = `
workflow Later(id: string) -> bool {
  select {
    on signal Go -> {}
  }
  let a = mining.anomaly(id)
  return a.unusual
}
`

// minedOrder is the order in which the mining tests start minedFlow's
// completed cases: nine usual ones (x 0 to 8) with the odd one (99)
// among them, so that the latest cases all took the usual path.
var minedOrder = []string{"0", "1", "2", "3", "99", "4", "5", "6", "7", "8"}

// TestBuiltBinaryMining: the history is made by knhk run; a binary built
// from the asking program answers mining.predict and mining.anomaly about
// it through its run (the same answer as knhk run's) and its signal.
func TestBuiltBinaryMining(t *testing.T) {
	root, dir := buildDir(t, map[string]string{"flow.knhk": minedFlow, "ask.knhk": minedAsk + minedLater})
	waitingGo := regexp.MustCompile(`case (c-[0-9a-f]{16}) is waiting for signal Go`)
	start := func(x string) string {
		t.Helper()
		code, _, errs := knhkRun(t, dir, "run", "--input-json", x, "flow.knhk")
		m := waitingGo.FindStringSubmatch(errs)
		if code != 0 || m == nil {
			t.Fatalf("knhk run flow.knhk %s: %d %q", x, code, errs)
		}
		return m[1]
	}
	signal := func(id string) {
		t.Helper()
		if code, _, errs := knhkRun(t, dir, "signal", id, "Go"); code != 0 {
			t.Fatalf("knhk signal %s Go: %d %q", id, code, errs)
		}
	}
	// The odd case starts among the usual ones, not last: the model
	// follows the most recent behaviour (the date of the last event is
	// a feature), so with the odd case last the next step it predicted
	// depended on the events' wall-clock times (runtime/predict's
	// TestMinedFixtureUnambiguous).
	var done []string
	var odd string
	for _, x := range minedOrder {
		id := start(x)
		signal(id)
		if x == "99" {
			odd = id
		} else {
			done = append(done, id)
		}
	}
	w := start("9")

	bin := filepath.Join(dir, "ask")
	if code, _, errs := knhkRun(t, dir, "build", "--knhk-src", root, "-o", bin, "ask.knhk"); code != 0 {
		t.Fatalf("knhk build: exit %d\n%s", code, errs)
	}
	code, out, errs := appRun(t, dir, bin, "run", "--workflow", "Ask", "--input-json", `"`+w+`"`)
	if code != 0 {
		t.Fatalf("the binary's Ask: %d %q", code, errs)
	}
	for _, want := range []string{`"next": ?"signal Go"`, `"sure": ?true`, `"trained_on": ?10`, `"bounded": ?true`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("the binary's Ask(%s) = %s, want %s", w, out, want)
		}
	}
	_, local, errs := knhkRun(t, dir, "run", "--workflow", "Ask", "--input-json", `"`+w+`"`, "ask.knhk")
	if local != out {
		t.Errorf("the binary's Ask = %s, knhk run's = %s (%s)", out, local, errs)
	}

	// The binary's signal runs the query of a case it started.
	later := func(id string) string {
		t.Helper()
		code, _, errs := appRun(t, dir, bin, "run", "--workflow", "Later", "--input-json", `"`+id+`"`)
		m := waitingGo.FindStringSubmatch(errs)
		if code != 0 || m == nil {
			t.Fatalf("the binary's Later(%s): %d %q", id, code, errs)
		}
		code, out, errs := appRun(t, dir, bin, "signal", m[1], "Go")
		if code != 0 {
			t.Fatalf("the binary's signal of Later(%s): %d %q", id, code, errs)
		}
		return strings.TrimSpace(out)
	}
	if got := later(odd); got != "true" {
		t.Errorf("Later(the odd case) = %s, want true", got)
	}
	if got := later(done[3]); got != "false" {
		t.Errorf("Later(a usual case) = %s, want false", got)
	}
	code, _, errs = appRun(t, dir, bin, "run", "--workflow", "Flag", "--input-json", `"c-0000000000000000"`)
	if code != 1 || !strings.Contains(errs, "task mining.anomaly: unknown case c-0000000000000000 in .knhk") {
		t.Errorf("the binary's Flag(an unknown case): %d %q, want the reason", code, errs)
	}
}
