// This file implements tests of the unified diff: a fixed example, and
// random edits whose diffs must apply back to the new text and be minimal.

package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestUnifiedDiffExample(t *testing.T) {
	a := "package p\n\nfn   one() -> int = 1\nfn two() -> int = 2\nfn three() -> int = 3\nfn four() -> int = 4\nfn four2() -> int = 4\nfn five() -> int = 5\nfn six() -> int = 6\nfn seven() -> int = 7\nfn eight()->int=8\n"
	b := "package p\n\nfn one() -> int = 1\nfn two() -> int = 2\nfn three() -> int = 3\nfn four() -> int = 4\nfn four2() -> int = 4\nfn five() -> int = 5\nfn six() -> int = 6\nfn seven() -> int = 7\nfn eight() -> int = 8"
	want := `--- a.orig
+++ a
@@ -1,6 +1,6 @@
 package p
 
-fn   one() -> int = 1
+fn one() -> int = 1
 fn two() -> int = 2
 fn three() -> int = 3
 fn four() -> int = 4
@@ -8,4 +8,4 @@
 fn five() -> int = 5
 fn six() -> int = 6
 fn seven() -> int = 7
-fn eight()->int=8
+fn eight() -> int = 8
\ No newline at end of file
`
	if got := unifiedDiff("a.orig", "a", []byte(a), []byte(b)); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if got := unifiedDiff("a.orig", "a", []byte(a), []byte(a)); got != "" {
		t.Errorf("diff of equal texts = %q, want empty", got)
	}
}

func TestUnifiedDiffEmptySides(t *testing.T) {
	if got, want := unifiedDiff("x", "y", nil, []byte("a\nb\n")), "--- x\n+++ y\n@@ -0,0 +1,2 @@\n+a\n+b\n"; got != want {
		t.Errorf("from empty: got %q, want %q", got, want)
	}
	if got, want := unifiedDiff("x", "y", []byte("a\n"), nil), "--- x\n+++ y\n@@ -1 +0,0 @@\n-a\n"; got != want {
		t.Errorf("to empty: got %q, want %q", got, want)
	}
}

// TestUnifiedDiffRandom applies each diff back to the old text and checks
// it yields the new one, that hunks do not overlap, and that the number of
// changed lines is the minimum (len(a)+len(b)-2*LCS).
func TestUnifiedDiffRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"a\n", "b\n", "c\n", "d\n", "e"}
	gen := func(n int) string {
		var sb strings.Builder
		for range n {
			sb.WriteString(words[r.IntN(len(words))])
		}
		return sb.String()
	}
	for i := range 2000 {
		a, b := gen(r.IntN(30)), gen(r.IntN(30))
		if r.IntN(3) == 0 { // mostly similar texts, as formatting makes
			b = mutate(r, a, words)
		}
		d := unifiedDiff("a", "b", []byte(a), []byte(b))
		got, changed, err := applyDiff(a, d)
		if err != nil {
			t.Fatalf("case %d: %v\na=%q\nb=%q\ndiff:\n%s", i, err, a, b, d)
		}
		if got != b {
			t.Fatalf("case %d: applying the diff gives %q, want %q\ndiff:\n%s", i, got, b, d)
		}
		al, bl := splitLines(a), splitLines(b)
		if min := len(al) + len(bl) - 2*lcs(al, bl); changed != min {
			t.Fatalf("case %d: %d changed lines, minimum is %d\na=%q\nb=%q\ndiff:\n%s", i, changed, min, a, b, d)
		}
	}
}

// TestUnifiedDiffLarge checks that a diff too far apart for the Myers
// search still comes out correct.
func TestUnifiedDiffLarge(t *testing.T) {
	var a, b strings.Builder
	for i := range 3 * maxDiffEdits {
		fmt.Fprintf(&a, "a%d\n", i)
		fmt.Fprintf(&b, "b%d\n", i)
	}
	d := unifiedDiff("a", "b", []byte(a.String()), []byte(b.String()))
	got, _, err := applyDiff(a.String(), d)
	if err != nil || got != b.String() {
		t.Fatalf("large diff does not apply: %v", err)
	}
}

// TestUnifiedDiffMatchesDiffU compares with diff -u, where it exists, on
// texts whose minimal diff is unique.
func TestUnifiedDiffMatchesDiffU(t *testing.T) {
	if _, err := exec.LookPath("diff"); err != nil {
		t.Skip("no diff command")
	}
	var nums strings.Builder
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&nums, "%d\n", i)
	}
	n := nums.String()
	cases := [][2]string{
		{n, strings.Replace(n, "3\n", "three\n", 1) + "41\n"},
		{n, strings.Replace(strings.Replace(n, "\n12\n", "\n", 1), "\n30\n", "\n30\n30.5\n", 1)},
		{n, strings.TrimSuffix(n, "\n")},
		{"", "a\n"},
		{"x\ny\n", ""},
	}
	dir := t.TempDir()
	pa, pb := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for i, c := range cases {
		if err := os.WriteFile(pa, []byte(c[0]), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(pb, []byte(c[1]), 0o644); err != nil {
			t.Fatal(err)
		}
		out, _ := exec.Command("diff", "-u", "--label", "a", "--label", "b", pa, pb).Output()
		if got := unifiedDiff("a", "b", []byte(c[0]), []byte(c[1])); got != string(out) {
			t.Errorf("case %d: got:\n%s\ndiff -u:\n%s", i, got, out)
		}
	}
}

func mutate(r *rand.Rand, s string, words []string) string {
	lines := splitLines(s)
	for range 1 + r.IntN(3) {
		i := r.IntN(len(lines) + 1)
		switch r.IntN(3) {
		case 0:
			lines = append(lines[:i], append([]string{words[r.IntN(len(words)-1)]}, lines[i:]...)...)
		case 1:
			if i < len(lines) {
				lines = append(lines[:i], lines[i+1:]...)
			}
		case 2:
			if i < len(lines) {
				lines[i] = words[r.IntN(len(words))]
			}
		}
	}
	return strings.Join(lines, "")
}

func lcs(a, b []string) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

var hunkHeader = regexp.MustCompile(`^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@$`)

// applyDiff applies a unified diff to a, checking every hunk header and
// context line, and returns the result and the number of -/+ lines.
func applyDiff(a, diff string) (string, int, error) {
	old := splitLines(a)
	if diff == "" {
		return a, 0, nil
	}
	lines := strings.Split(strings.TrimSuffix(diff, "\n"), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "--- ") || !strings.HasPrefix(lines[1], "+++ ") {
		return "", 0, fmt.Errorf("bad header")
	}
	var out []string
	next, changed := 0, 0 // next unread line of old
	for i := 2; i < len(lines); {
		m := hunkHeader.FindStringSubmatch(lines[i])
		if m == nil {
			return "", 0, fmt.Errorf("line %d: not a hunk header: %q", i, lines[i])
		}
		num := func(s string, def int) int {
			if s == "" {
				return def
			}
			n, _ := strconv.Atoi(s)
			return n
		}
		aStart, aLen, bStart, bLen := num(m[1], 0), num(m[2], 1), num(m[3], 0), num(m[4], 1)
		from := aStart - 1
		if aLen == 0 {
			from = aStart
		}
		if from < next {
			return "", 0, fmt.Errorf("hunk %q overlaps the previous one", lines[i])
		}
		out = append(out, old[next:from]...)
		if bl := len(out); (bLen > 0 && bl != bStart-1) || (bLen == 0 && bl != bStart) {
			return "", 0, fmt.Errorf("hunk %q: new text is at line %d", lines[i], bl+1)
		}
		next = from
		i++
		gotA, gotB := 0, 0
		for i < len(lines) && !strings.HasPrefix(lines[i], "@@") {
			l := lines[i]
			i++
			text := l[1:] + "\n"
			if i < len(lines) && lines[i] == `\ No newline at end of file` {
				text = l[1:]
				i++
			}
			switch l[0] {
			case ' ', '-':
				if next >= len(old) || old[next] != text {
					return "", 0, fmt.Errorf("line %q does not match the old text", l)
				}
				next++
				gotA++
				if l[0] == ' ' {
					out = append(out, text)
					gotB++
				} else {
					changed++
				}
			case '+':
				out = append(out, text)
				gotB++
				changed++
			default:
				return "", 0, fmt.Errorf("bad line %q", l)
			}
		}
		if gotA != aLen || gotB != bLen {
			return "", 0, fmt.Errorf("hunk %q has %d old and %d new lines", m[0], gotA, gotB)
		}
	}
	out = append(out, old[next:]...)
	return strings.Join(out, ""), changed, nil
}
