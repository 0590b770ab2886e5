// This file implements the case-id testscript command, with which a
// script names the case that knhk run started (its id is random).

package main

import (
	"regexp"

	"github.com/rogpeppe/go-internal/testscript"
)

var caseLineRE = regexp.MustCompile(`(?m)^case (c-[0-9a-f]{16})\b`)

// case-id VAR sets the environment variable VAR to the case id that the
// last command's standard error names ("case c-... is waiting ..."), so
// that later commands can refer to the case as $VAR.
func cmdCaseID(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "case-id")
	if len(args) != 1 {
		ts.Fatalf("usage: case-id VAR")
	}
	m := caseLineRE.FindStringSubmatch(ts.ReadFile("stderr"))
	if m == nil {
		ts.Fatalf("case-id: the last command's stderr names no case")
	}
	ts.Setenv(args[0], m[1])
}
