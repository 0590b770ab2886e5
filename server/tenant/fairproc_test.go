package tenant

// This file runs a noisy neighbour benchmark's neighbour in a process of
// its own: the test binary again, running TestFairNeighbourProcess,
// told what to do one JSON line at a time on its standard input.

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"testing"
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
	if err := p.enc.Encode(neighbourCmd{Op: "start", URL: c.url, Token: c.token, Workflow: c.workflow, Input: c.input, Honour: c.honour, Goroutines: goroutines}); err != nil {
		p.b.Fatal(err)
	}
}

// stop ends the neighbour's calls and returns its counts.
func (p *neighbour) stop() (started, refused int) {
	if err := p.enc.Encode(neighbourCmd{Op: "stop"}); err != nil {
		p.b.Fatal(err)
	}
	var n neighbourCount
	if err := p.out.Decode(&n); err != nil {
		p.b.Fatalf("the neighbour process: %v", err)
	}
	return n.Started, n.Refused
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
