package tenant

// This file runs a noisy neighbour benchmark's neighbour in a process of
// its own: the test binary again, running TestFairNeighbourProcess,
// told what to do one JSON line at a time on its standard input.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// neighbourEnv set to 1 makes TestFairNeighbourProcess the neighbour.
const neighbourEnv = "KNHK_FAIR_NEIGHBOUR"

// neighbourCmd is a line to the neighbour: start (c's cases from
// Goroutines clients) or stop, to which it answers a neighbourCount.
type neighbourCmd struct {
	Op              string
	URL, Token      string
	Workflow, Input string
	Honour          bool
	Goroutines      int
}

type neighbourCount struct{ Started, Refused int }

// neighbour is the running neighbour process.
type neighbour struct {
	b   *testing.B
	cmd *exec.Cmd
	in  io.WriteCloser
	out *json.Decoder
	enc *json.Encoder
	// cpu0 is its CPU time when its block began (procCPU).
	cpu0 time.Duration
}

// procCPU is process pid's CPU time so far (user and system), from
// /proc (0 elsewhere), in the kernel's ticks of 10 ms: summed over a
// run's blocks, what the neighbour's clients took of the two cores the
// server shares with them, which clients on other machines would not.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]) // after the command's name
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+k) * 10 * time.Millisecond
}

// neighbourProc returns fb's neighbour process, starting it the first
// time; it ends with the benchmark.
func (fb *fairBench) neighbourProc() *neighbour {
	if fb.proc != nil {
		return fb.proc
	}
	b := fb.b
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestFairNeighbourProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), neighbourEnv+"=1")
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = ownSession()
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		in.Close()
		cmd.Wait()
	})
	fb.proc = &neighbour{b: b, cmd: cmd, in: in, out: json.NewDecoder(bufio.NewReader(out)), enc: json.NewEncoder(in)}
	return fb.proc
}

func (p *neighbour) start(c fairCond, goroutines int) {
	p.cpu0 = procCPU(p.cmd.Process.Pid)
	if err := p.enc.Encode(neighbourCmd{Op: "start", URL: c.url, Token: c.token, Workflow: c.workflow, Input: c.input, Honour: c.honour, Goroutines: goroutines}); err != nil {
		p.b.Fatal(err)
	}
}

// stop ends the neighbour's calls and returns its counts and the CPU
// time its process took since start.
func (p *neighbour) stop() (started, refused int, cpu time.Duration) {
	if err := p.enc.Encode(neighbourCmd{Op: "stop"}); err != nil {
		p.b.Fatal(err)
	}
	var n neighbourCount
	if err := p.out.Decode(&n); err != nil {
		p.b.Fatalf("the neighbour process: %v", err)
	}
	return n.Started, n.Refused, procCPU(p.cmd.Process.Pid) - p.cpu0
}

// TestFairNeighbourProcess is the neighbour process of the noisy
// neighbour benchmarks; it does nothing (skips) in a test run.
func TestFairNeighbourProcess(t *testing.T) {
	if os.Getenv(neighbourEnv) != "1" {
		t.Skip("the noisy neighbour benchmarks' neighbour process")
	}
	in := json.NewDecoder(os.Stdin)
	out := json.NewEncoder(os.Stdout)
	var cancel context.CancelFunc
	var done chan neighbourCount
	for {
		var c neighbourCmd
		if err := in.Decode(&c); err != nil {
			if cancel != nil {
				cancel()
			}
			return // the benchmark ended
		}
		switch c.Op {
		case "start":
			var ctx context.Context
			ctx, cancel = context.WithCancel(context.Background())
			done = make(chan neighbourCount, 1)
			go func() {
				s, r := hammer(ctx, fairCond{url: c.URL, token: c.Token, workflow: c.Workflow, input: c.Input, honour: c.Honour}, c.Goroutines)
				done <- neighbourCount{s, r}
			}()
		case "stop":
			cancel()
			if err := out.Encode(<-done); err != nil {
				t.Fatal(err)
			}
		}
	}
}
