// This file implements the end-to-end tests of the knhk command: the
// testscript scripts in testdata/script, run against the real binary.

package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"knhk": func() { os.Exit(Main()) },
		// knhk-panic runs a panicking command body under the same guard
		// as Main, so a script can see what a bug looks like to a user.
		"knhk-panic": func() {
			os.Exit(guard(os.Stderr, func() int { panic("deliberate test panic") }))
		},
	})
}

// TestScript runs testdata/script/*.txtar. Set KNHK_UPDATE=1 to rewrite
// the expected output sections compared with cmp in place.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		UpdateScripts:       os.Getenv("KNHK_UPDATE") != "",
		Setup: func(e *testscript.Env) error {
			// A binary built with -race sleeps a second at exit by
			// default; scripts run knhk hundreds of times.
			e.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"gen-long":  cmdGenLong,
			"gen-nest":  cmdGenNest,
			"gen-bytes": cmdGenBytes,
			"mode":      cmdMode,
			"exitcode":  cmdExitcode,
			"case-id":   cmdCaseID,
			"gen-tree":  cmdGenTree,
			"stop-run":  cmdStopRun,
			"gone":      cmdGone,
			// Data directory damage and read-only checks (scriptdata_test.go).
			"last-segment":  cmdLastSegment,
			"damage":        cmdDamage,
			"dir-hash":      cmdDirHash,
			"dir-unchanged": cmdDirUnchanged,
		},
	})
}

func noNeg(ts *testscript.TestScript, neg bool, name string) {
	if neg {
		ts.Fatalf("unsupported: ! %s", name)
	}
}

func atoi(ts *testscript.TestScript, s string) int {
	n, err := strconv.Atoi(s)
	ts.Check(err)
	return n
}

// gen-long FILE SIZE writes a valid file of exactly SIZE bytes that is a
// single line: a package clause and one long comment.
func cmdGenLong(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "gen-long")
	if len(args) != 2 {
		ts.Fatalf("usage: gen-long FILE SIZE")
	}
	head := "package big // "
	n := atoi(ts, args[1])
	if n < len(head) {
		ts.Fatalf("gen-long: size %d is below %d", n, len(head))
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(head+strings.Repeat("x", n-len(head))), 0o666))
}

// gen-nest FILE DEPTH writes a function whose body is a literal wrapped in
// DEPTH pairs of parentheses.
func cmdGenNest(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "gen-nest")
	if len(args) != 2 {
		ts.Fatalf("usage: gen-nest FILE DEPTH")
	}
	d := atoi(ts, args[1])
	src := "package deep\n\nfn f() -> int = " + strings.Repeat("(", d) + "1" + strings.Repeat(")", d) + "\n"
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(src), 0o666))
}

// gen-bytes FILE TEXT writes TEXT with Go string escapes (\n, \xff, ...)
// decoded, so scripts can make files that are not valid UTF-8.
func cmdGenBytes(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "gen-bytes")
	if len(args) != 2 {
		ts.Fatalf("usage: gen-bytes FILE TEXT")
	}
	s, err := strconv.Unquote(`"` + args[1] + `"`)
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(s), 0o666))
}

// mode FILE PERM asserts that FILE's permission bits are PERM (octal).
func cmdMode(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "mode")
	if len(args) != 2 {
		ts.Fatalf("usage: mode FILE PERM")
	}
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	fi, err := os.Lstat(ts.MkAbs(args[0]))
	ts.Check(err)
	if got := fi.Mode(); got.Perm() != os.FileMode(want) || !got.IsRegular() {
		ts.Fatalf("%s: mode is %v, want regular file with %04o", args[0], got, want)
	}
}

// exitcode N PROG ARGS... runs PROG and asserts that it exits with status
// N; its output is then available to stdout and stderr like exec's.
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "exitcode")
	if len(args) < 2 {
		ts.Fatalf("usage: exitcode N PROG [ARGS...]")
	}
	want := atoi(ts, args[0])
	err := ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("exitcode: %v", err)
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", strings.Join(args[1:], " "), got, want)
	}
}
