// This file implements the unified diff printed by "knhk fmt -d".

package main

import (
	"fmt"
	"strings"
)

// diffContext is the number of unchanged lines shown around each change.
const diffContext = 3

// maxDiffEdits bounds the edit distance the Myers search explores. Past
// it, the changed middle of the files is shown as removed and re-added in
// one hunk: still a correct diff, found in bounded time and memory
// (O(maxDiffEdits²) for the search trace).
const maxDiffEdits = 2000

// edit is one line of an edit script: kind is ' ' (kept), '-' (removed
// from a) or '+' (added from b), and line is the line's text including
// its newline, if any.
type edit struct {
	kind byte
	line string
}

// unifiedDiff returns a unified diff that turns a into b, with headers
// naming oldName and newName, or "" when a and b are equal.
func unifiedDiff(oldName, newName string, a, b []byte) string {
	if string(a) == string(b) {
		return ""
	}
	edits := diffLines(splitLines(string(a)), splitLines(string(b)))
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s\n", oldName, newName)
	for i := 0; i < len(edits); {
		// Find the next change and the end of the run of changes that are
		// close enough to share a hunk.
		first := i
		for first < len(edits) && edits[first].kind == ' ' {
			first++
		}
		if first == len(edits) {
			break
		}
		last := first // one past the last change of the hunk
		for j := first; j < len(edits) && j-last <= 2*diffContext; j++ {
			if edits[j].kind != ' ' {
				last = j + 1
			}
		}
		start := max(first-diffContext, i)
		end := min(last+diffContext, len(edits))
		writeHunk(&sb, edits, start, end)
		i = end
	}
	return sb.String()
}

// writeHunk writes edits[start:end] as one hunk.
func writeHunk(sb *strings.Builder, edits []edit, start, end int) {
	aLine, bLine := 1, 1 // 1-based numbers of the first lines in the hunk
	for _, e := range edits[:start] {
		if e.kind != '+' {
			aLine++
		}
		if e.kind != '-' {
			bLine++
		}
	}
	aLen, bLen := 0, 0
	for _, e := range edits[start:end] {
		if e.kind != '+' {
			aLen++
		}
		if e.kind != '-' {
			bLen++
		}
	}
	fmt.Fprintf(sb, "@@ -%s +%s @@\n", hunkRange(aLine, aLen), hunkRange(bLine, bLen))
	for _, e := range edits[start:end] {
		sb.WriteByte(e.kind)
		sb.WriteString(e.line)
		if !strings.HasSuffix(e.line, "\n") {
			sb.WriteString("\n\\ No newline at end of file\n")
		}
	}
}

// hunkRange formats a range as diff -u does: an empty range names the
// line before it, and a length of 1 is left out.
func hunkRange(line, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", line-1)
	case 1:
		return fmt.Sprint(line)
	}
	return fmt.Sprintf("%d,%d", line, n)
}

// splitLines splits s after each newline; a final line without a newline
// is kept as it is.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// diffLines returns a shortest edit script from a to b (Myers' O(ND)
// algorithm) after trimming the common prefix and suffix.
func diffLines(a, b []string) []edit {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	var out []edit
	for _, l := range a[:pre] {
		out = append(out, edit{' ', l})
	}
	out = append(out, myers(a[pre:len(a)-suf], b[pre:len(b)-suf])...)
	for _, l := range a[len(a)-suf:] {
		out = append(out, edit{' ', l})
	}
	return out
}

// myers returns a shortest edit script from a to b, or all of a removed
// and all of b added when more than maxDiffEdits edits would be needed.
func myers(a, b []string) []edit {
	n, m := len(a), len(b)
	off := n + m + 1
	v := make([]int, 2*off+1)
	// trace[d] holds v[-d..d] as it was before step d.
	var trace [][]int
	for d := 0; d <= n+m && d <= maxDiffEdits; d++ {
		trace = append(trace, append([]int(nil), v[off-d:off+d+1]...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1] // down: insert from b
			} else {
				x = v[off+k-1] + 1 // right: delete from a
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x++
				y++
			}
			v[off+k] = x
			if x >= n && y >= m {
				return backtrack(a, b, trace, d)
			}
		}
	}
	out := make([]edit, 0, n+m)
	for _, l := range a {
		out = append(out, edit{'-', l})
	}
	for _, l := range b {
		out = append(out, edit{'+', l})
	}
	return out
}

// backtrack walks the Myers trace back from (len(a), len(b)) at distance
// d and returns the edit script in order.
func backtrack(a, b []string, trace [][]int, d int) []edit {
	x, y := len(a), len(b)
	var rev []edit
	for ; d > 0; d-- {
		vd := trace[d]
		at := func(k int) int { return vd[k+d] }
		k := x - y
		prevK := k - 1
		if k == -d || (k != d && at(k-1) < at(k+1)) {
			prevK = k + 1
		}
		prevX := at(prevK)
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x--
			y--
			rev = append(rev, edit{' ', a[x]})
		}
		if prevK == k+1 {
			y--
			rev = append(rev, edit{'+', b[y]})
		} else {
			x--
			rev = append(rev, edit{'-', a[x]})
		}
	}
	for x > 0 {
		x--
		rev = append(rev, edit{' ', a[x]})
	}
	out := make([]edit, len(rev))
	for i, e := range rev {
		out[len(rev)-1-i] = e
	}
	return out
}
