// This file implements the testscript commands that damage a data
// directory and check that a command left it unchanged.

package main

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// last-segment DIR VAR sets VAR to the path of the newest log segment of
// data directory DIR.
func cmdLastSegment(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "last-segment")
	if len(args) != 2 {
		ts.Fatalf("usage: last-segment DIR VAR")
	}
	segs, err := filepath.Glob(filepath.Join(ts.MkAbs(args[0]), strings.Repeat("[0-9]", 20)+".log"))
	ts.Check(err)
	if len(segs) == 0 {
		ts.Fatalf("last-segment: no segment in %s", args[0])
	}
	sort.Strings(segs)
	ts.Setenv(args[1], segs[len(segs)-1])
}

// damage flip FILE OFF | damage truncate FILE SIZE | damage append FILE N
// flips the byte at OFF, cuts FILE to SIZE bytes, or appends N bytes of
// garbage; a negative OFF or SIZE counts from the end of the file.
func cmdDamage(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "damage")
	if len(args) != 3 {
		ts.Fatalf("usage: damage flip|truncate|append FILE N")
	}
	path := ts.MkAbs(args[1])
	b, err := os.ReadFile(path)
	ts.Check(err)
	n := atoi(ts, args[2])
	at := n
	if n < 0 {
		at = len(b) + n
	}
	switch args[0] {
	case "flip":
		b[at] ^= 0x5a
	case "truncate":
		b = b[:at]
	case "append":
		b = append(b, []byte(strings.Repeat("\x13garbage", n))[:n]...)
	default:
		ts.Fatalf("damage: unknown kind %s", args[0])
	}
	ts.Check(os.WriteFile(path, b, 0o644))
}

// dir-hash DIR VAR sets VAR to a hash of every name, mode and byte under
// DIR; dir-unchanged DIR VAR fails when DIR no longer has that hash.
func cmdDirHash(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "dir-hash")
	if len(args) != 2 {
		ts.Fatalf("usage: dir-hash DIR VAR")
	}
	ts.Setenv(args[1], dirHash(ts, ts.MkAbs(args[0])))
}

func cmdDirUnchanged(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "dir-unchanged")
	if len(args) != 2 {
		ts.Fatalf("usage: dir-unchanged DIR VAR")
	}
	if got := dirHash(ts, ts.MkAbs(args[0])); got != ts.Getenv(args[1]) {
		ts.Fatalf("%s changed", args[0])
	}
}

func dirHash(ts *testscript.TestScript, dir string) string {
	sum, err := hashTree(dir)
	ts.Check(err)
	return sum
}
