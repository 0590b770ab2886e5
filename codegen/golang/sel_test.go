// This file tests where generated code keeps a filter's result as a
// selection: only where nothing but len and map read it.

package golang_test

import (
	"regexp"
	"testing"
)

func TestSelections(t *testing.T) {
	funcs := generatedFuncs(t, "sel.knhk", `package sel

type O = { q: int, p: float }

fn counted(os: [O]) -> int = len(filter(os, o => o.q % 2 == 0))

fn mapped(os: [O]) -> float = sum(map(filter(os, o => o.q % 2 == 0), o => o.p))

fn kept(os: [O]) -> [O] = filter(os, o => o.q % 2 == 0)

fn both(os: [O]) -> int = len(filter(os, o => o.q % 2 == 0)) + len(kept(os))

fn passed(os: [O]) -> int = len(kept(filter(os, o => o.q % 2 == 0)))

fn shared(os: [O]) -> int = filter(os, o => o.q % 2 == 0)[0].q

fn column(os: [O]) -> int = len(filter(os, o => o.q > 2))

workflow W(os: [O]) -> float {
  return mapped(os) + float(counted(os) + both(os) + passed(os) + shared(os) + column(os))
}
`)
	body := func(name string) string { return funcBody(t, funcs, name) }
	for name, want := range map[string]string{
		"counted": "SelectOf", // only counted
		"mapped":  "MapSel",   // only mapped
		"kept":    "FilterOf", // returned
		"passed":  "FilterOf", // an argument
		"shared":  "FilterOf", // indexed
		"column":  "FilterCol",
	} {
		if b := body(name); !regexp.MustCompile(`eval\.` + want + `\b`).MatchString(b) {
			t.Errorf("%s does not call eval.%s:\n%s", name, want, b)
		}
	}
	if b := body("kept"); regexp.MustCompile(`Sel`).MatchString(b) {
		t.Errorf("kept returns a selection:\n%s", b)
	}
	if b := body("both"); !regexp.MustCompile(`eval\.SelectOf`).MatchString(b) {
		t.Errorf("both's own filter is not a selection:\n%s", b)
	}
}
