//go:build unix

// This file implements the testscript commands that stop knhk by a real
// signal while a task runs, and check which processes outlived it.

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// stop-run SIGNAL FILE PROG ARGS... starts PROG in the background, waits
// until FILE exists (the task has started), sends SIGNAL (INT, TERM or
// KILL) to PROG alone and waits for it to exit. PROG's standard error
// goes to stop.stderr and its exit status (or the signal that ended it)
// to stop.exit; the case id it printed is $STOPPED_CASE. Processes whose
// ids the script's tasks wrote to *.pid files are killed when the script
// ends, so a failing check leaves nothing behind.
func cmdStopRun(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "stop-run")
	if len(args) < 3 {
		ts.Fatalf("usage: stop-run SIGNAL FILE PROG [ARGS...]")
	}
	sig := map[string]syscall.Signal{"INT": syscall.SIGINT, "TERM": syscall.SIGTERM, "KILL": syscall.SIGKILL}[args[0]]
	if sig == 0 {
		ts.Fatalf("stop-run: unknown signal %s", args[0])
	}
	work := ts.Getenv("WORK")
	ts.Defer(func() { killPidFiles(work) })
	// The script's PATH, not this process's, has the commands.
	cmd := exec.Command(lookIn(ts.Getenv("PATH"), args[2]), args[3:]...)
	cmd.Dir = work
	cmd.Env = scriptEnv(ts)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	ts.Check(cmd.Start())
	wait := make(chan error, 1)
	go func() { wait <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(ts.MkAbs(args[1])); err == nil {
			break
		}
		select {
		case err := <-wait:
			ts.Fatalf("stop-run: %s ended before %s appeared (%v): %s", args[2], args[1], err, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			ts.Fatalf("stop-run: %s did not appear", args[1])
		}
	}
	ts.Check(cmd.Process.Signal(sig))
	var exit string
	var err error
	select {
	case err = <-wait:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		ts.Fatalf("stop-run: %s did not exit after SIG%s", args[2], args[0])
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		exit = "0"
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			exit = "signal " + ws.Signal().String()
		} else {
			exit = strconv.Itoa(ee.ExitCode())
		}
	default:
		ts.Fatalf("stop-run: %v", err)
	}
	ts.Check(os.WriteFile(filepath.Join(work, "stop.stderr"), stderr.Bytes(), 0o666))
	ts.Check(os.WriteFile(filepath.Join(work, "stop.exit"), []byte(exit+"\n"), 0o666))
	if m := caseLineRE.FindStringSubmatch(stderr.String()); m != nil {
		ts.Setenv("STOPPED_CASE", m[1])
	}
}

// gone PIDFILE... asserts that the processes whose ids the files hold
// have ended (zombies count as ended), waiting up to 5 s for them;
// "! gone" asserts that they all still run.
func cmdGone(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) == 0 {
		ts.Fatalf("usage: gone PIDFILE...")
	}
	for _, f := range args {
		pid, err := strconv.Atoi(strings.TrimSpace(ts.ReadFile(f)))
		ts.Check(err)
		deadline := time.Now().Add(5 * time.Second)
		for alive(pid) && !neg && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if alive(pid) != neg {
			if neg {
				ts.Fatalf("process %d (%s) has ended", pid, f)
			}
			ts.Fatalf("process %d (%s) still runs", pid, f)
		}
	}
}

// alive reports whether process pid exists and is not a zombie.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return !os.IsNotExist(err)
	}
	// The state follows the command name in parentheses.
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}

func killPidFiles(dir string) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.pid"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func scriptEnv(ts *testscript.TestScript) []string {
	env := os.Environ()
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "WORK", "GORACE"} {
		env = append(env, k+"="+ts.Getenv(k))
	}
	return env
}

func lookIn(path, name string) string {
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	return name
}
