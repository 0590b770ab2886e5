// This file implements the test helpers that compare two syntax trees
// ignoring positions, and two files' comments.

package format

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/alecthomas/participle/v2/lexer"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

var (
	posType      = reflect.TypeFor[source.Pos]()
	lexerPosType = reflect.TypeFor[lexer.Position]()
)

// diffAST returns "" when a and b are the same tree modulo positions, or
// the path of the first difference. File.Source and File.Comments are
// skipped: sameComments compares comments.
func diffAST(a, b *syntax.File) string {
	return diffValue("File", reflect.ValueOf(a), reflect.ValueOf(b))
}

func diffValue(path string, a, b reflect.Value) string {
	if a.Type() != b.Type() {
		return fmt.Sprintf("%s: type %s vs %s", path, a.Type(), b.Type())
	}
	if a.Type() == posType || a.Type() == lexerPosType {
		return ""
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return fmt.Sprintf("%s: nil vs non-nil", path)
			}
			return ""
		}
		return diffValue(path, a.Elem(), b.Elem())
	case reflect.Struct:
		for i := range a.NumField() {
			f := a.Type().Field(i)
			if a.Type() == reflect.TypeFor[syntax.File]() && (f.Name == "Source" || f.Name == "Comments") {
				continue
			}
			if d := diffValue(path+"."+f.Name, a.Field(i), b.Field(i)); d != "" {
				return d
			}
		}
	case reflect.Slice:
		if a.Len() != b.Len() {
			return fmt.Sprintf("%s: length %d vs %d", path, a.Len(), b.Len())
		}
		for i := range a.Len() {
			if d := diffValue(fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i)); d != "" {
				return d
			}
		}
	default:
		if !reflect.DeepEqual(a.Interface(), b.Interface()) {
			return fmt.Sprintf("%s: %v vs %v", path, a.Interface(), b.Interface())
		}
	}
	return ""
}

// commentTexts lists f's comments as the formatter prints them: line
// comments lose trailing blanks.
func commentTexts(f *syntax.File) []string {
	var out []string
	for _, c := range f.Comments {
		t := c.Text
		if !c.Block() {
			t = strings.TrimRight(t, " \t\r")
		}
		out = append(out, t)
	}
	return out
}

// diffComments returns "" when both files have the same comments in the
// same order.
func diffComments(a, b *syntax.File) string {
	ta, tb := commentTexts(a), commentTexts(b)
	for i := range max(len(ta), len(tb)) {
		switch {
		case i >= len(ta):
			return fmt.Sprintf("comment %d added: %q", i, tb[i])
		case i >= len(tb):
			return fmt.Sprintf("comment %d dropped: %q", i, ta[i])
		case ta[i] != tb[i]:
			return fmt.Sprintf("comment %d changed: %q became %q", i, ta[i], tb[i])
		}
	}
	return ""
}
