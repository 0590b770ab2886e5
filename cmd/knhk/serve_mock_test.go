// This file tests that knhk serve does not run a case knhk run --mock
// started: its mocked tasks would call the real services.

package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"connectrpc.com/connect"

	"github.com/knhk/knhk/client"
)

// mockedHold's task ship, really run, leaves the file "shipped"; the
// mock answers it with "mocked".
const mockedHold = `package hold

task ship(id: string) -> string exec "sh" "-c" "cat >/dev/null; touch shipped; echo '\"real\"'"

workflow Hold(id: string) -> string {
  select {
    on signal Approve(by: string) -> {
      let r = ship(id)
      return r + " by " + by
    }
  }
}
`

// TestServeMockedCase: a case knhk run --mock left waiting is shown by
// a server that takes the directory over as "mocked" with why, in the
// API and knhk cases --server; a signal is refused and calls nothing
// real, also after a restart from the index; once the server is
// stopped, knhk signal finishes the case with its mock.
func TestServeMockedCase(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("hold.knhk", mockedHold)
	write("mock.json", `{"ship": "mocked"}`)
	knhk := func(args ...string) (string, string, error) {
		cmd := exec.Command(knhkBinary(t), args...)
		cmd.Dir = dir
		var out, errb strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String(), errb.String(), err
	}
	_, stderr, err := knhk("run", "--mock", "mock.json", "--input-json", `"o-1"`, "hold.knhk")
	if err != nil {
		t.Fatalf("knhk run: %v\n%s", err, stderr)
	}
	m := regexp.MustCompile(`case (c-[0-9a-f]{16}) is waiting for signal Approve`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("knhk run did not leave the case waiting:\n%s", stderr)
	}
	id := m[1]
	ctx := context.Background()
	for round := range 2 { // the second server reads the first's index
		srv := startServe(t, dir, ".knhk")
		c := client.New(srv.url)
		s, err := c.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if s.Status != "mocked" || !strings.Contains(s.Error, "started with knhk run --mock") || !strings.Contains(s.Error, "knhk resume --data DIR "+id) {
			t.Errorf("round %d: case = %s %q, want mocked and why", round, s.Status, s.Error)
		}
		if got := strings.Join(s.Waiting, ","); got != "Approve" {
			t.Errorf("round %d: waiting = %q, want Approve", round, got)
		}
		_, err = c.Signal(ctx, id, "Approve", `"ann"`)
		if connect.CodeOf(err) != connect.CodeFailedPrecondition || !strings.Contains(err.Error(), "does not run mocked cases") {
			t.Errorf("round %d: signal = %v, want failed_precondition naming the mock", round, err)
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		start := time.Now()
		s, err = c.Wait(wctx, id)
		cancel()
		if connect.CodeOf(err) != connect.CodeFailedPrecondition || time.Since(start) > 5*time.Second {
			t.Errorf("round %d: wait = %v after %v, want failed_precondition at once", round, err, time.Since(start))
		}
		out, stderr, err := knhk("cases", "--server", srv.url)
		if err != nil || !regexp.MustCompile(`(?m)^`+id+` +mocked +Hold`).MatchString(out) {
			t.Errorf("round %d: knhk cases --server: %v\n%s%s", round, err, out, stderr)
		}
		if code := srv.stop(t, syscall.SIGTERM); code != 0 {
			t.Fatalf("serve exited %d:\n%s", code, srv.log())
		}
		if _, err := os.Stat(filepath.Join(dir, "shipped")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("round %d: the real task ran for a mocked case (%v)", round, err)
		}
	}
	out, stderr, err := knhk("signal", id, "Approve", `"ann"`)
	if err != nil || strings.TrimSpace(out) != `"mocked by ann"` {
		t.Fatalf("knhk signal after the server: %v %q\n%s", err, out, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "shipped")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("knhk signal ran the real task (%v)", err)
	}
}
