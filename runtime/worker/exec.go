// This file implements exec tasks: a process speaking JSON on standard
// input and output.

package worker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/knhk/knhk/runtime/eval"
)

// maxOutput bounds what an exec task may write to standard output or
// standard error; more fails the attempt.
const maxOutput = 16 << 20

// waitDelay is how long a killed process's pipes may stay open (held by
// a descendant that escaped the group) before Wait gives up on them.
const waitDelay = 2 * time.Second

func (w *Worker) exec(ctx context.Context, c *call) (eval.Value, error) {
	b := c.task.Binding
	if b.Target == "" {
		return eval.Value{}, fmt.Errorf("task %s has no program to run", c.task.Name)
	}
	prog := b.Target
	if strings.ContainsRune(prog, '/') && !filepath.IsAbs(prog) && w.o.BaseDir != "" {
		prog = filepath.Join(w.o.BaseDir, prog)
	}
	in, err := w.argsJSON(c)
	if err != nil {
		return eval.Value{}, fmt.Errorf("task %s: %w", c.task.Name, err)
	}
	cmd := exec.Command(prog, b.Args...)
	// The input goes through a pipe written only once the process group
	// is recorded: a task that reads its input before it starts children
	// (as the protocol has it) cannot leave a child that a knhk killed
	// right after the start would not know of.
	stdin, feed, err := os.Pipe()
	if err != nil {
		return eval.Value{}, fmt.Errorf("task %s: %w", c.task.Name, err)
	}
	defer feed.Close()
	cmd.Stdin = stdin
	var stdout, stderr capped
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = append(os.Environ(),
		"KNHK_IDEMPOTENCY_KEY="+c.inv.IdempotencyKey,
		"KNHK_CASE_ID="+c.inv.CaseID,
		fmt.Sprintf("KNHK_ATTEMPT=%d", c.inv.Attempt))
	ownGroup(cmd)
	cmd.WaitDelay = waitDelay
	err = cmd.Start()
	stdin.Close() // the child has its own copy
	if err != nil {
		return eval.Value{}, fmt.Errorf("task %s: %w", c.task.Name, err)
	}
	forget := w.recordGroup(cmd.Process.Pid)
	defer forget()
	go func() {
		// A task that exits without reading its input gets EPIPE here,
		// which is not an error of the call.
		_, _ = io.Copy(feed, bytes.NewReader(in))
		feed.Close()
	}()
	done := make(chan struct{})
	killed := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-ctx.Done():
			killGroup(cmd)
			close(killed)
		case <-done:
		}
	}()
	err = cmd.Wait()
	close(done)
	// Wait for the watcher: Wait returns as soon as the kill lands,
	// possibly before the watcher closes killed, and the deadline would
	// then be reported as "signal: killed".
	<-watched
	select {
	case <-killed:
		// The group was killed: say why rather than "signal: killed".
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return eval.Value{}, fmt.Errorf("task %s timed out; its processes were killed: %w", c.task.Name, ctx.Err())
		}
		return eval.Value{}, fmt.Errorf("task %s: %w", c.task.Name, ctx.Err())
	default:
	}
	if stdout.over || stderr.over {
		return eval.Value{}, fmt.Errorf("task %s wrote more than %d bytes", c.task.Name, maxOutput)
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			msg := excerpt(stderr.b.Bytes(), 2000)
			if msg == "" {
				msg = "no output on standard error"
			}
			return eval.Value{}, fmt.Errorf("task %s: %s: %s", c.task.Name, ee.ProcessState, msg)
		}
		return eval.Value{}, fmt.Errorf("task %s: %w", c.task.Name, err)
	}
	return w.result(c, stdout.b.Bytes())
}

// capped is a buffer that stops growing at maxOutput.
type capped struct {
	b    bytes.Buffer
	over bool
}

func (c *capped) Write(p []byte) (int, error) {
	if c.b.Len()+len(p) > maxOutput {
		c.over = true
		return len(p), nil
	}
	return c.b.Write(p)
}
