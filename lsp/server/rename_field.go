// This file implements what a rename must follow beyond the object's own
// occurrences: the same field of the untyped record literals whose values
// are that record (records are structural), and a last check that the
// renamed workspace still type-checks.

package server

import (
	"fmt"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/knhk/knhk/lang/check"
	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

// renameKeys returns the objects a rename of o renames in the referrers:
// o, and when o is a record field, that field of every untyped record
// literal whose type is o's record. Such a literal ({ id: "a", qty: 2 })
// gets a fresh record type of its own, with its own field objects, and is
// accepted wherever o's record is because records are structural; left
// alone it would no longer match the renamed record.
func renameKeys(from *analysis, o check.Object, referrers []*analysis) map[objKey]bool {
	key := keyOf(o)
	keys := map[objKey]bool{key: true}
	if o.Kind() != check.ObjField {
		return keys
	}
	rec := recordOf(from, key)
	if rec == nil {
		return keys
	}
	for _, a := range referrers {
		for e, t := range a.info.Types {
			if _, ok := e.(*syntax.RecordLit); !ok {
				continue
			}
			r, ok := t.(*check.Record) // a typed literal has its hint's (named) type
			if !ok || !check.Identical(r, rec) {
				continue
			}
			if f := r.Field(o.Name()); f != nil && f.Obj != nil {
				keys[keyOf(f.Obj)] = true
			}
		}
	}
	return keys
}

// recordOf finds the record type that declares the field with key: a
// declared type of a's file or of its imports, or the type of a literal.
func recordOf(a *analysis, key objKey) *check.Record {
	has := func(t check.Type) *check.Record {
		r, ok := check.Underlying(t).(*check.Record)
		if !ok {
			return nil
		}
		for _, f := range r.Fields {
			if f.Obj != nil && keyOf(f.Obj) == key {
				return r
			}
		}
		return nil
	}
	seen := map[*check.Package]bool{}
	var inPkg func(p *check.Package) *check.Record
	inPkg = func(p *check.Package) *check.Record {
		if p == nil || seen[p] || p.Scope == nil {
			return nil
		}
		seen[p] = true
		for _, o := range p.Scope.Names() {
			if o.Kind() == check.ObjType {
				if r := has(o.Type()); r != nil {
					return r
				}
			}
		}
		for _, imp := range p.Imports {
			if r := inPkg(imp); r != nil {
				return r
			}
		}
		return nil
	}
	if r := inPkg(a.pkg); r != nil {
		return r
	}
	for _, t := range a.info.Types {
		if r := has(t); r != nil {
			return r
		}
	}
	return nil
}

// verifyRename checks the referrers as they would be after the rename and
// reports the first error the rename would introduce, naming where: a
// rename the server cannot follow all the way (a value of another declared
// record type used as this one) is refused rather than applied broken.
func (s *view) verifyRename(referrers []*analysis, occs []occurrence, oldName, newName string) error {
	byPath := map[string][]source.Span{}
	for _, occ := range occs {
		byPath[occ.path] = append(byPath[occ.path], occ.span)
	}
	renamed := map[string][]byte{}
	for _, a := range referrers {
		spans := byPath[a.path]
		if len(spans) == 0 {
			continue
		}
		sort.Slice(spans, func(i, j int) bool { return spans[i].Start > spans[j].Start })
		b := append([]byte(nil), a.content...)
		for _, sp := range spans {
			b = append(b[:sp.Start:sp.Start], append([]byte(newName), b[sp.End:]...)...)
		}
		renamed[a.path] = b
	}
	read := func(path string) ([]byte, error) {
		if b, ok := renamed[filepath.Clean(path)]; ok {
			return b, nil
		}
		return s.readFile(path)
	}
	for _, a := range referrers {
		before := map[string]bool{}
		for _, d := range a.diags {
			if d.Severity == source.Error {
				before[d.Message] = true
			}
		}
		content := a.content
		if b, ok := renamed[a.path]; ok {
			content = b
		}
		_, _, diags := check.CheckSource(a.path, content, &check.Config{ReadFile: read})
		for _, d := range diags {
			if d.Severity != source.Error || before[d.Message] || d.File == nil {
				continue
			}
			p := d.File.Position(d.Span.Start)
			return fmt.Errorf("cannot rename %s to %s: the workspace would no longer check: %s:%s:%s: %s",
				oldName, newName, filepath.Base(d.File.Name), strconv.Itoa(p.Line), strconv.Itoa(p.Column), d.Message)
		}
	}
	return nil
}
