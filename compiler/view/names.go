// This file implements the source names of lowered elements: the
// lowering names each place and transition after its construct and the
// line's node number ("if_8", "join_65"), which the view drops.

package view

import (
	"strconv"
	"strings"

	"github.com/knhk/knhk/compiler/ir"
)

// NetName is a net's name for people: a workflow keeps its name, and the
// nets the lowering makes for a parallel for body or a hook
// ("Batch.for_14") lose their suffixes ("Batch.for").
func NetName(name string) string {
	parts := strings.Split(name, ".")
	for i, s := range parts {
		parts[i] = ir.BaseName(s)
	}
	return strings.Join(parts, ".")
}

// shorten makes source text one short line for a label.
func shorten(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 40 {
		s = string(r[:37]) + "..."
	}
	return s
}

func itoa(i int) string { return strconv.Itoa(i) }
