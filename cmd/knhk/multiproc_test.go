// This file tests one data directory shared by many knhk processes: real
// processes of a knhk binary built once for these tests.

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// knhkBinary builds cmd/knhk once per test binary and returns its path.
func knhkBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the knhk binary")
	}
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "knhk-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "knhk")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// knhkProc runs the knhk binary to its end and returns its exit code and
// output.
func knhkProc(t *testing.T, dir string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(knhkBinary(t), args...)
	cmd.Dir = dir
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("knhk %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return code, out.String(), errb.String()
}

const shareSource = `package share

task work(n: int) -> int exec "sh" "-c" "cat >/dev/null; sleep 0.1; echo 1"

workflow Share(n: int) -> int {
  let a = work(n)
  let b = work(a)
  return n + a + b
}
`

// TestManyRunsShareADataDirectory starts 20 knhk run at once on one data
// directory while a monitor polls knhk cases every 50 ms. Every run and
// every poll must succeed: the directory used to be locked for a whole
// run, so 19 runs failed with "data directory is in use" and the monitor
// made 15% of concurrent runs fail.
func TestManyRunsShareADataDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "share.knhk"), []byte(shareSource), 0o666); err != nil {
		t.Fatal(err)
	}
	knhkBinary(t)
	stop := make(chan struct{})
	var polls, pollFails atomic.Int64
	var pollErr atomic.Value
	var mon sync.WaitGroup
	mon.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			if _, err := os.Stat(filepath.Join(dir, ".knhk")); err != nil {
				continue // no run has created it yet
			}
			polls.Add(1)
			if code, _, stderr := knhkProc(t, dir, "cases"); code != 0 {
				pollFails.Add(1)
				pollErr.Store(stderr)
			}
		}
	})
	const n = 20
	type result struct {
		code           int
		stdout, stderr string
	}
	results := make([]result, n)
	var runs sync.WaitGroup
	for i := range n {
		runs.Go(func() {
			code, out, errs := knhkProc(t, dir, "run", "--input-json", fmt.Sprint(i), "share.knhk")
			results[i] = result{code, out, errs}
		})
	}
	runs.Wait()
	close(stop)
	mon.Wait()
	for i, r := range results {
		if r.code != 0 || strings.TrimSpace(r.stdout) != fmt.Sprint(i+2) {
			t.Errorf("run %d: exit %d, stdout %q, stderr %s", i, r.code, r.stdout, r.stderr)
		}
	}
	if f := pollFails.Load(); f > 0 {
		t.Errorf("%d of %d polls of knhk cases failed; last: %v", f, polls.Load(), pollErr.Load())
	}
	code, out, stderr := knhkProc(t, dir, "cases", "--json")
	if code != 0 {
		t.Fatalf("cases: %s", stderr)
	}
	var rows []caseRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	done := 0
	for _, r := range rows {
		if r.Status == "completed" {
			done++
		}
	}
	if len(rows) != n || done != n {
		t.Fatalf("%d cases, %d completed, want %d of each:\n%s", len(rows), done, n, out)
	}
	if code, out, _ := knhkProc(t, dir, "fsck"); code != 0 {
		t.Fatalf("fsck after the runs:\n%s", out)
	}
	t.Logf("%d polls of knhk cases during the runs, all succeeded", polls.Load())
}

const sleepersSource = `package sleepers

task hang() -> int exec "sh" "-c" "cat >/dev/null; sleep 60; echo 1"

workflow Timer() -> string {
  select {
    on timer 60s -> { return "late" }
  }
}

workflow Hung() -> int {
  let x = hang()
  return x
}

workflow Quick(n: int) -> int {
  return n + 1
}
`

var startedRE = regexp.MustCompile(`(?m)^case (c-[0-9a-f]{16})$`)

// startBackground starts knhk run of workflow w and returns once its case
// id is printed, that is once the case's start is durable.
func startBackground(t *testing.T, dir, w string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(knhkBinary(t), "run", "--workflow", w, "sleepers.knhk")
	cmd.Dir = dir
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	sc := bufio.NewScanner(stderr)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if m := startedRE.FindStringSubmatch(sc.Text()); m != nil {
			go func() {
				for sc.Scan() {
				}
			}()
			return cmd, m[1]
		}
	}
	t.Fatalf("knhk run --workflow %s printed no case id:\n%s", w, strings.Join(lines, "\n"))
	return nil, ""
}

// TestReadCommandsBesideRunningCases: while one run sleeps on a timer and
// another waits for a hung task, every other command works on the same
// data directory. Only the running cases themselves refuse to be driven
// by a second process, at once and with a reason.
func TestReadCommandsBesideRunningCases(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "sleepers.knhk"), []byte(sleepersSource), 0o666); err != nil {
		t.Fatal(err)
	}
	timer, timerID := startBackground(t, dir, "Timer")
	_, hungID := startBackground(t, dir, "Hung")

	code, out, stderr := knhkProc(t, dir, "run", "--workflow", "Quick", "--input-json", "41", "sleepers.knhk")
	if code != 0 || strings.TrimSpace(out) != "42" {
		t.Fatalf("run beside running cases: exit %d, %q, %s", code, out, stderr)
	}
	code, out, stderr = knhkProc(t, dir, "cases")
	if code != 0 {
		t.Fatalf("cases beside running cases: %s", stderr)
	}
	for _, id := range []string{timerID, hungID} {
		if !regexp.MustCompile(`(?m)^` + id + ` +running `).MatchString(out) {
			t.Errorf("cases does not list %s as running:\n%s", id, out)
		}
		for _, args := range [][]string{{"history", id}, {"export", "--csv", id}} {
			if code, _, stderr := knhkProc(t, dir, args...); code != 0 {
				t.Errorf("%v beside the running case: %s", args, stderr)
			}
		}
		for _, args := range [][]string{{"resume", id}, {"signal", id, "Go"}} {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			cmd := exec.CommandContext(ctx, knhkBinary(t), args...)
			cmd.Dir = dir
			b, err := cmd.CombinedOutput()
			cancel()
			if err == nil || !strings.Contains(string(b), "case "+id+": case is being run by another process") {
				t.Errorf("%v while another process runs the case: %v\n%s", args, err, b)
			}
		}
	}
	if code, out, _ := knhkProc(t, dir, "fsck"); code != 0 {
		t.Fatalf("fsck beside running cases:\n%s", out)
	}
	// Interrupted, the timer's run keeps its case, and another process
	// may then pick it up.
	timer.Process.Signal(os.Interrupt)
	timer.Wait()
	code, out, _ = knhkProc(t, dir, "cases")
	if code != 0 || !regexp.MustCompile(`(?m)^`+timerID+` +running `).MatchString(out) {
		t.Fatalf("cases after the interrupt: exit %d\n%s", code, out)
	}
}
