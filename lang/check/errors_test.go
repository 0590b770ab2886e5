// This file implements the inline-expectation tests: testdata/errors/*.knhk
// mark each expected diagnostic with a comment, go/types style.

package check

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/knhk/knhk/lang/source"
)

// expectation is one ERROR or WARN comment.
type expectation struct {
	sev   source.Severity
	rx    *regexp.Regexp
	line  int        // for // comments: anywhere on this line
	at    source.Pos // for /* */ comments: the span must start here
	block bool
	text  string
}

var expectRx = regexp.MustCompile(`(/\*|//)\s*(ERROR|WARN)\s+("(?:[^"\\]|\\.)*")\s*(\*/)?`)

// expectations extracts the ERROR and WARN comments of src.
func expectations(t *testing.T, f *source.File) []*expectation {
	var out []*expectation
	src := string(f.Content)
	for _, m := range expectRx.FindAllStringSubmatchIndex(src, -1) {
		opener, kind := src[m[2]:m[3]], src[m[4]:m[5]]
		// The quoted text is a regexp; only \" is unescaped, so that
		// regexp escapes such as \( need no doubling.
		q := strings.ReplaceAll(src[m[6]+1:m[7]-1], `\"`, `"`)
		rx, err := regexp.Compile(q)
		if err != nil {
			t.Fatalf("%s: bad regexp %q: %v", f.Name, q, err)
		}
		e := &expectation{rx: rx, text: q, line: f.Position(source.Pos(m[0])).Line}
		if kind == "WARN" {
			e.sev = source.Warning
		}
		if opener == "/*" {
			e.block = true
			i := m[1]
			for i < len(src) && (src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\r') {
				i++
			}
			e.at = source.Pos(i)
		}
		out = append(out, e)
	}
	return out
}

func diagText(d *source.Diagnostic) string {
	return d.Message + " [" + d.Code.Name() + "]"
}

// matchExpectations checks diags against the comments in f and returns
// the codes of the matched errors.
func matchExpectations(t *testing.T, f *source.File, diags source.Diagnostics) map[source.Code]bool {
	t.Helper()
	exps := expectations(t, f)
	codes := map[source.Code]bool{}
	for _, d := range diags {
		if d.File == nil || d.File.Name != f.Name {
			t.Errorf("unexpected diagnostic in another file: %s", d.Error())
			continue
		}
		line := f.Position(d.Span.Start).Line
		found := false
		for i, e := range exps {
			if e == nil || e.sev != d.Severity || !e.rx.MatchString(diagText(d)) {
				continue
			}
			if e.block && e.at != d.Span.Start || !e.block && e.line != line {
				continue
			}
			exps[i] = nil
			found = true
			if d.Severity == source.Error {
				codes[d.Code] = true
			}
			break
		}
		if !found {
			t.Errorf("%s:%d:%d: unexpected %s: %s", f.Name, line, f.Position(d.Span.Start).Column, d.Severity, diagText(d))
		}
	}
	for _, e := range exps {
		if e != nil {
			p := e.line
			if e.block {
				p = f.Position(e.at).Line
			}
			t.Errorf("%s:%d: missing %s matching %q", f.Name, p, e.sev, e.text)
		}
	}
	return codes
}

// TestErrors checks every file in testdata/errors against its inline
// expectations, and that together they cover at least 25 error classes.
func TestErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/errors/*.knhk")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no test files")
	}
	covered := map[source.Code]bool{}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			_, _, diags := CheckSource(path, src, nil)
			for c := range matchExpectations(t, source.NewFile(path, src), diags) {
				covered[c] = true
			}
		})
	}
	var names []string
	for c := range covered {
		names = append(names, c.Name())
	}
	sort.Strings(names)
	t.Logf("error classes covered (%d): %s", len(names), strings.Join(names, " "))
	if len(covered) < 25 {
		t.Errorf("only %d distinct error classes covered, want at least 25", len(covered))
	}
}
