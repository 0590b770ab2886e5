// This file tests std/mining under knhk serve: a served case asks about
// the cases the server holds, as under knhk run.

package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// minedFlow leaves a case waiting for Go after its first step; x == 99
// takes a path no other case takes.
const minedFlow = `package flow

task a() exec "sh" "-c" "cat >/dev/null"
task b() exec "sh" "-c" "cat >/dev/null"
task c() exec "sh" "-c" "cat >/dev/null"

workflow Flow(x: int) {
  a()
  if x == 99 {
    c()
    c()
    c()
  }
  select {
    on signal Go -> {}
  }
  if x % 2 == 0 {
    b()
  } else {
    c()
  }
}
`

// minedAsk asks std/mining about a case, as mining_query.txtar's ask.knhk.
const minedAsk = `package ask

import "std/mining"

type Answer = { next: string, sure: bool, trained_on: int, unusual: bool, bounded: bool }

workflow Ask(id: string) -> Answer {
  let p = mining.predict(id)
  let a = mining.anomaly(id)
  return { next: p.next, sure: p.probability > 0.5, trained_on: p.trained_on, unusual: a.unusual, bounded: p.low <= p.remaining && p.remaining <= p.high }
}

workflow Flag(id: string) -> bool {
  let a = mining.anomaly(id)
  return a.unusual
}
`

// TestServeMining: cases served by knhk serve make the history; a
// served case's mining.predict and mining.anomaly answer from it (the
// next step, the cases trained on, an odd path flagged, a usual one
// not), and an unknown case fails the asking case with the reason.
func TestServeMining(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{"flow.knhk": minedFlow, "ask.knhk": minedAsk} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srv := startServe(t, dir, "data")
	defer srv.stop(t, syscall.SIGTERM)
	waitingGo := regexp.MustCompile(`case (c-[0-9a-f]{16}) is waiting for signal Go`)
	start := func(x string) string {
		t.Helper()
		code, _, errs := knhkProc(t, dir, "run", "--server", srv.url, "--input-json", x, "flow.knhk")
		m := waitingGo.FindStringSubmatch(errs)
		if code != 0 || m == nil {
			t.Fatalf("run --server flow.knhk %s: %d %q\n%s", x, code, errs, srv.log())
		}
		return m[1]
	}
	signal := func(id string) {
		t.Helper()
		if code, _, errs := knhkProc(t, dir, "signal", "--server", srv.url, id, "Go"); code != 0 {
			t.Fatalf("signal --server %s Go: %d %q", id, code, errs)
		}
	}
	var done []string
	var odd string
	for _, x := range minedOrder { // the odd case among the usual ones
		id := start(x)
		signal(id)
		if x == "99" {
			odd = id
		} else {
			done = append(done, id)
		}
	}
	w := start("9")

	code, out, errs := knhkProc(t, dir, "run", "--server", srv.url, "--workflow", "Ask", "--input-json", `"`+w+`"`, "ask.knhk")
	if code != 0 {
		t.Fatalf("a served case asking std/mining: %d %q\n%s", code, errs, srv.log())
	}
	// Ten completed cases of Flow besides the waiting one.
	for _, want := range []string{`"next": ?"signal Go"`, `"sure": ?true`, `"trained_on": ?10`, `"bounded": ?true`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("Ask(%s) = %s, want %s", w, out, want)
		}
	}
	flag := func(id string) string {
		t.Helper()
		code, out, errs := knhkProc(t, dir, "run", "--server", srv.url, "--workflow", "Flag", "--input-json", `"`+id+`"`, "ask.knhk")
		if code != 0 {
			t.Fatalf("Flag(%s): %d %q", id, code, errs)
		}
		return strings.TrimSpace(out)
	}
	if got := flag(odd); got != "true" {
		t.Errorf("Flag(the odd case) = %s, want true", got)
	}
	if got := flag(done[2]); got != "false" {
		t.Errorf("Flag(a usual case) = %s, want false", got)
	}
	code, _, errs = knhkProc(t, dir, "run", "--server", srv.url, "--workflow", "Flag", "--input-json", `"c-0000000000000000"`, "ask.knhk")
	if code != 1 || !strings.Contains(errs, "task mining.anomaly: unknown case c-0000000000000000 in data") {
		t.Errorf("Flag(an unknown case): %d %q, want the reason", code, errs)
	}
}
