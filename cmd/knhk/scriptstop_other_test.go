//go:build !unix

// This file stands in for the signal testscript commands where there are
// no Unix signals: the scripts that use them are skipped.

package main

import "github.com/rogpeppe/go-internal/testscript"

func cmdStopRun(ts *testscript.TestScript, neg bool, args []string) {
	ts.Skip("stop-run needs Unix signals")
}

func cmdGone(ts *testscript.TestScript, neg bool, args []string) {
	ts.Skip("gone needs Unix processes")
}
