// This file implements "did you mean" suggestions for misspelled names.

package check

import (
	"github.com/knhk/knhk/lang/source"
)

// maxSuggestDistance is the largest edit distance a suggestion may have.
const maxSuggestDistance = 2

// suggest returns the candidate closest to name by edit distance, if it is
// close enough to be a plausible typo: at most 2 edits, and at most half
// the name's length so that "x" does not suggest "y".
func suggest(name string, candidates []string) string {
	best, bestD := "", maxSuggestDistance+1
	limit := len(name) / 2
	if limit > maxSuggestDistance {
		limit = maxSuggestDistance
	}
	for _, cand := range candidates {
		if cand == name || cand == "" || cand == "_" {
			continue
		}
		if d := len(cand) - len(name); d > limit || -d > limit {
			continue
		}
		d := editDistance(name, cand)
		if d <= limit && (d < bestD || d == bestD && cand < best) {
			best, bestD = cand, d
		}
	}
	return best
}

// editDistance is the optimal-string-alignment distance between a and b
// (Levenshtein plus transposition of adjacent bytes, so "qyt" is one edit
// from "qty"), in bytes: identifiers are ASCII.
func editDistance(a, b string) int {
	rows := make([][]int, len(a)+1)
	for i := range rows {
		rows[i] = make([]int, len(b)+1)
		rows[i][0] = i
	}
	for j := 0; j <= len(b); j++ {
		rows[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d := min(rows[i-1][j]+1, rows[i][j-1]+1, rows[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d = min(d, rows[i-2][j-2]+1)
			}
			rows[i][j] = d
		}
	}
	return rows[len(a)][len(b)]
}

// suggestFix attaches "did you mean `x`?" to d as a fix replacing sp.
func (c *checker) suggestFix(d *source.Diagnostic, sp source.Span, name string, candidates []string) {
	if s := suggest(name, candidates); s != "" {
		d.Fixes = append(d.Fixes, source.Fix{Message: "did you mean `" + s + "`?", Span: sp, NewText: s})
	}
}

// nameFilter selects the objects offered as suggestions.
type nameFilter func(Object) bool

func typeNamesOnly(o Object) bool { return o.Kind() == ObjType }

func valuesOnly(o Object) bool { return o.Kind() != ObjType }

// scopeNames lists the names in s that pass keep.
func scopeNames(s *Scope, keep nameFilter) []string {
	var out []string
	for _, o := range s.list {
		if keep == nil || keep(o) {
			out = append(out, o.Name())
		}
	}
	return out
}

// visibleNames lists every name visible from the current scope.
func (c *checker) visibleNames(keep nameFilter) []string {
	var out []string
	for s := c.scope; s != nil; s = s.Parent {
		out = append(out, scopeNames(s, keep)...)
	}
	return out
}
