// This file implements the source names of lowered elements: the
// lowering names each place and transition after its construct and the
// line's node number ("if_8", "join_65"), which the view drops.

package view

import (
	"strconv"
	"strings"
)

// Base strips the lowering's "_N" suffix from name: "let_stage_43"
// becomes "let_stage", "if_8" becomes "if"; a name without one is kept.
func Base(name string) string {
	i := strings.LastIndexByte(name, '_')
	if i <= 0 || i == len(name)-1 {
		return name
	}
	for _, r := range name[i+1:] {
		if r < '0' || r > '9' {
			return name
		}
	}
	return name[:i]
}

// NetName is a net's name for people: a workflow keeps its name, and the
// nets the lowering makes for a parallel for body or a hook
// ("Batch.for_14") lose their suffixes ("Batch.for").
func NetName(name string) string {
	parts := strings.Split(name, ".")
	for i, s := range parts {
		parts[i] = Base(s)
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
