// This file implements the gen-tree testscript command, with which a
// script makes a deeply nested JSON input.

package main

import (
	"os"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// gen-tree FILE DEPTH writes the JSON of a Tree (type Tree = { kids:
// [Tree] }) DEPTH records deep, each level an object and an array.
func cmdGenTree(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "gen-tree")
	if len(args) != 2 {
		ts.Fatalf("usage: gen-tree FILE DEPTH")
	}
	d := atoi(ts, args[1])
	text := strings.Repeat(`{"kids":[`, d) + strings.Repeat(`]}`, d)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), []byte(text), 0o666))
}
