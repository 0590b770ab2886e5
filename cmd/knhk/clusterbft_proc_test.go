package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// bftSource is clusterSource with a query.
const bftSource = `package app

workflow Hold(id: string) -> string {
  signal Approve(by: string)
  var stage = "waiting for " + id
  query stage -> string = stage
  select {
    on signal Approve(by: string) -> { return id + " by " + by }
    on timer 48h -> { fail "nobody approved" }
  }
}
`

// startValidators starts validators v0..v(n-1) of dir/net (knhk
// cluster bft-init --dir net) as knhk serve --bft --drive with extra
// flags, serving app.knhk; stop kills them, and logs each one's output
// when t failed. A test may replace an entry of vs (a restart): stop
// kills the one there.
func startValidators(t *testing.T, dir string, n int, extra ...string) (vs []*serveProc, stop func()) {
	t.Helper()
	stop = func() {
		for i, p := range vs {
			p.cmd.Process.Kill()
			p.cmd.Wait()
			if t.Failed() {
				t.Logf("validator %d:\n%s", i, p.log())
			}
		}
	}
	for i := range n {
		args := append([]string{"--bft", fmt.Sprintf("net/v%d", i), "--drive"}, extra...)
		vs = append(vs, startServe(t, dir, fmt.Sprintf("net/v%d/knhk", i), append(args, "app.knhk")...))
	}
	return vs, stop
}

// waitDriver waits for a validator of vs to drive and returns its
// index (KNHK_TOKEN: one the validators take).
func waitDriver(t *testing.T, dir string, vs []*serveProc) int {
	t.Helper()
	driver := -1
	waitLong(t, "a driver", func() bool {
		for i, p := range vs {
			if st, ok := clusterStatusOf(t, dir, p.url); ok && st.State == "Validator (drives)" {
				driver = i
				return true
			}
		}
		return false
	})
	return driver
}

// saveEveryBlock makes the n validators of dir/net save their state
// every block, so that a restarted one loads its save and replays only
// the blocks after it.
func saveEveryBlock(t *testing.T, dir string, n int) {
	t.Helper()
	for i := range n {
		hf := filepath.Join(dir, "net", fmt.Sprintf("v%d", i), "knhk-bft.json")
		b, err := os.ReadFile(hf)
		if err != nil {
			t.Fatal(err)
		}
		var h map[string]any
		if err := json.Unmarshal(b, &h); err != nil {
			t.Fatal(err)
		}
		h["save_every"] = 1
		b, _ = json.Marshal(h)
		if err := os.WriteFile(hf, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBFTDriverFailoverProcesses runs four validators as knhk serve
// --bft --drive processes: the committed lease names one driver, the
// others forward writes to it. The driver is killed with a case
// waiting for its signal; another validator takes the next term, and
// the signal sent through a survivor completes the case everywhere.
// knhk cluster cancel and knhk run, signal, query and cases --server work through any validator, and
// the killed validator, restarted, comes back from its saved state.
func TestBFTDriverFailoverProcesses(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.knhk"), []byte(bftSource), 0o666); err != nil {
		t.Fatal(err)
	}
	base := strconv.Itoa(21000 + rand.IntN(8000))
	if code, _, errb := knhkProc(t, dir, "cluster", "bft-init", "--dir", "net", "--validators", "4", "--base-port", base); code != 0 {
		t.Fatalf("bft-init: %s", errb)
	}
	saveEveryBlock(t, dir, 4)
	vs, stop := startValidators(t, dir, 4)
	defer stop()
	cl := func(url string, args ...string) (int, string, string) {
		return knhkProc(t, dir, append([]string{"cluster", "--server", url}, args...)...)
	}
	// driver finds the validator that says it drives, at a term after
	// after.
	driver := func(after uint64, dead int) int {
		for i, p := range vs {
			if i == dead {
				continue
			}
			if st, ok := clusterStatusOf(t, dir, p.url); ok && st.State == "Validator (drives)" {
				if term, _ := strconv.ParseUint(st.Term, 10, 64); term > after {
					return i
				}
			}
		}
		return -1
	}
	if code, _, errb := cl(vs[3].url, "start", "f1", "--workflow", "Hold", "--input", `"f1"`); code != 0 {
		t.Fatalf("start: %s", errb)
	}
	first := -1
	waitUntil(t, "a driver", func() bool { first = driver(0, -1); return first >= 0 })
	st, _ := clusterStatusOf(t, dir, vs[first].url)
	term, _ := strconv.ParseUint(st.Term, 10, 64)
	// knhk run --server through a validator that does not drive: the
	// Connect API forwards the start to the driver.
	other := (first + 2) % 4
	code, _, errb := knhkProc(t, dir, "run", "--server", vs[other].url, "app.knhk", "--input-json", `"r1"`)
	m := regexp.MustCompile(`case (\S+)`).FindStringSubmatch(errb)
	if code != 0 || m == nil || !strings.Contains(errb, "waiting for signal Approve") {
		t.Fatalf("run --server: exit %d\n%s", code, errb)
	}
	vs[first].cmd.Process.Kill()
	vs[first].cmd.Wait()
	survivor := (first + 1) % 4
	waitUntil(t, "another driver", func() bool { return driver(term, first) >= 0 })
	// The same request id twice, through two validators: one delivery.
	for _, v := range []int{survivor, other} {
		if code, _, errb := cl(vs[v].url, "signal", "f1", "Approve", "--payload", `{"by":"val"}`, "--request-id", "sig-f1"); code != 0 {
			t.Fatalf("signal through validator %d: %s", v, errb)
		}
	}
	code, out, errb := knhkProc(t, dir, "signal", "--server", vs[other].url, m[1], "Approve", `{"by":"ann"}`)
	if code != 0 || strings.TrimSpace(out) != `"r1 by ann"` {
		t.Fatalf("signal --server after the failover: exit %d\n%s%s", code, out, errb)
	}
	if code, out, errb := knhkProc(t, dir, "query", "--server", vs[survivor].url, m[1], "stage"); code != 0 || strings.TrimSpace(out) != `"waiting for r1"` {
		t.Fatalf("query --server: exit %d\n%s%s", code, out, errb)
	}
	if code, out, errb := knhkProc(t, dir, "cases", "--server", vs[survivor].url); code != 0 || !strings.Contains(out, m[1]) || !strings.Contains(out, "f1") {
		t.Fatalf("cases --server: exit %d\n%s%s", code, out, errb)
	}
	if code, out, errb := knhkProc(t, dir, "history", "--server", vs[other].url, "f1"); code != 0 || strings.Count(out, "Approve") != 1 {
		t.Fatalf("history --server of f1 (one Approve): exit %d\n%s%s", code, out, errb)
	}
	if code, out, errb := knhkProc(t, dir, "export", "--server", vs[other].url, "--xes"); code != 0 || !strings.Contains(out, m[1]) || !strings.Contains(out, "f1") {
		t.Fatalf("export --server: exit %d\n%s%s", code, out, errb)
	}
	for i, p := range vs {
		if i == first {
			continue
		}
		waitUntil(t, "f1 to complete on every survivor", func() bool {
			_, out, _ := cl(p.url, "get", "f1")
			return strings.Contains(out, `"status":"completed"`) && strings.Contains(out, `"result":"f1 by val"`)
		})
	}
	// A cancel through a validator that does not drive.
	if code, _, errb := cl(vs[survivor].url, "start", "f2", "--workflow", "Hold", "--input", `"f2"`); code != 0 {
		t.Fatalf("start f2: %s", errb)
	}
	if code, _, errb := cl(vs[other].url, "cancel", "f2"); code != 0 {
		t.Fatalf("cancel f2: %s", errb)
	}
	if _, out, _ := cl(vs[other].url, "get", "f2"); !strings.Contains(out, `"status":"cancelled"`) {
		t.Fatalf("f2 after its cancel: %s", out)
	}
	// The killed validator comes back from its saved state and catches
	// up with the chain.
	vs[first] = startServe(t, dir, fmt.Sprintf("net/v%d/knhk", first), "--bft", fmt.Sprintf("net/v%d", first), "--drive", "app.knhk")
	waitUntil(t, "the restarted validator to catch up", func() bool {
		_, out, _ := cl(vs[first].url, "get", m[1])
		return strings.Contains(out, `"status":"completed"`)
	})
	_, out, _ = cl(vs[survivor].url, "status")
	if !strings.Contains(out, "Validator") || strings.Contains(out, "Removed") {
		t.Fatalf("status of a survivor:\n%s", out)
	}
}
