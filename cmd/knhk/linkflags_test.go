package main

import (
	"slices"
	"testing"
)

// TestLinkFlags: knhk build links without DWARF unless --dwarf, and an
// embedded signature shares the one -ldflags go build takes.
func TestLinkFlags(t *testing.T) {
	for _, c := range []struct {
		sig   []byte
		dwarf bool
		want  []string
	}{
		{nil, false, []string{"-ldflags=-w"}},
		{nil, true, nil},
		{[]byte("s"), false, []string{"-ldflags=-w -X main.embeddedSig=cw=="}},
		{[]byte("s"), true, []string{"-ldflags=-X main.embeddedSig=cw=="}},
	} {
		if got := linkFlags(c.sig, c.dwarf); !slices.Equal(got, c.want) {
			t.Errorf("linkFlags(%q, %v) = %q, want %q", c.sig, c.dwarf, got, c.want)
		}
	}
}
