// This file implements literals: validation of numbers, strings,
// durations and times, and the typing of list, map and record literals.

package check

import (
	"errors"
	"strconv"
	"time"

	"github.com/knhk/knhk/lang/source"
	"github.com/knhk/knhk/lang/syntax"
)

var errRange = errors.New("out of range")

// parseInt parses a decimal literal with optional _ separators between
// digits.
func parseInt(s string) (int64, error) {
	var v int64
	if s == "" || s[0] == '_' || s[len(s)-1] == '_' {
		return 0, strconv.ErrSyntax
	}
	prevUnderscore := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch == '_' {
			if prevUnderscore {
				return 0, strconv.ErrSyntax
			}
			prevUnderscore = true
			continue
		}
		prevUnderscore = false
		if ch < '0' || ch > '9' {
			return 0, strconv.ErrSyntax
		}
		d := int64(ch - '0')
		if v > (1<<63-1-d)/10 {
			return 0, errRange
		}
		v = v*10 + d
	}
	return v, nil
}

// durationUnit returns the length of the unit at the start of s and its
// value in nanoseconds.
func durationUnit(s string) (int, int64) {
	if len(s) >= 2 {
		switch s[:2] {
		case "ns":
			return 2, 1
		case "us":
			return 2, 1e3
		case "ms":
			return 2, 1e6
		}
	}
	if len(s) >= 1 {
		switch s[0] {
		case 's':
			return 1, 1e9
		case 'm':
			return 1, 60e9
		case 'h':
			return 1, 3600e9
		case 'd':
			return 1, 86400e9
		}
	}
	return 0, 0
}

// ParseDuration parses a KNHK duration literal such as 1h30m or 2d into
// nanoseconds.
func ParseDuration(s string) (time.Duration, error) {
	var total int64
	if s == "" {
		return 0, strconv.ErrSyntax
	}
	for len(s) > 0 {
		i := 0
		var n int64
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			d := int64(s[i] - '0')
			if n > (1<<63-1-d)/10 {
				return 0, errRange
			}
			n = n*10 + d
			i++
		}
		if i == 0 {
			return 0, strconv.ErrSyntax
		}
		ul, scale := durationUnit(s[i:])
		if ul == 0 {
			return 0, strconv.ErrSyntax
		}
		if n > (1<<63-1)/scale || total > 1<<63-1-n*scale {
			return 0, errRange
		}
		total += n * scale
		s = s[i+ul:]
	}
	return time.Duration(total), nil
}

// ParseTime parses a time literal such as @2026-11-27T10:00:00Z.
func ParseTime(s string) (time.Time, error) {
	if len(s) > 0 && s[0] == '@' {
		s = s[1:]
	}
	return time.Parse(time.RFC3339Nano, s)
}

func (c *checker) inKernel() bool { return c.body != nil && c.body.kind == ObjKernel }

func (c *checker) basicLit(e *syntax.BasicLit, hint Type) Type {
	switch e.Kind {
	case syntax.IntLit:
		if _, err := parseInt(e.Value); err != nil {
			c.badLiteral(e, err, "integer")
			return TypInvalid
		}
		if hint != nil {
			h := unwrapOptional(hint)
			if isNumeric(h) {
				return h
			}
		}
		if c.inKernel() {
			return TypI32
		}
		return TypInt
	case syntax.FloatLit:
		if _, err := strconv.ParseFloat(stripUnderscores(e.Value), 64); err != nil {
			c.badLiteral(e, err, "float")
			return TypInvalid
		}
		if hint != nil {
			h := unwrapOptional(hint)
			if isFloat(h) {
				return h
			}
		}
		if c.inKernel() {
			return TypF32
		}
		return TypFloat
	case syntax.StringLitKind:
		if _, err := strconv.Unquote(e.Value); err != nil {
			c.errorf(e.Span(), source.BadLiteral, "malformed string literal %s", e.Value)
			return TypInvalid
		}
		if c.inKernel() {
			c.errorf(e.Span(), source.BadKernel, "strings are not allowed in kernels")
			return TypInvalid
		}
		return TypString
	case syntax.DurationLit:
		if _, err := ParseDuration(e.Value); err != nil {
			c.badLiteral(e, err, "duration")
			return TypInvalid
		}
		return TypDuration
	case syntax.TimeLit:
		if _, err := ParseTime(e.Value); err != nil {
			c.errorf(e.Span(), source.BadLiteral, "malformed time literal %s: want RFC 3339, such as @2026-11-27T10:00:00Z", e.Value)
			return TypInvalid
		}
		return TypTime
	case syntax.BoolLit:
		return TypBool
	case syntax.NoneLit:
		if hint != nil {
			if _, ok := Underlying(hint).(*Optional); ok {
				return hint
			}
		}
		return TypNone
	}
	return TypInvalid
}

func (c *checker) badLiteral(e *syntax.BasicLit, err error, what string) {
	if errors.Is(err, errRange) || errors.Is(err, strconv.ErrRange) {
		c.errorf(e.Span(), source.BadLiteral, "%s literal %s is out of range", what, e.Value)
		return
	}
	c.errorf(e.Span(), source.BadLiteral, "malformed %s literal %s", what, e.Value)
}

func stripUnderscores(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '_' {
			b := make([]byte, 0, len(s))
			for j := 0; j < len(s); j++ {
				if s[j] != '_' {
					b = append(b, s[j])
				}
			}
			return string(b)
		}
	}
	return s
}

func (c *checker) listLit(e *syntax.ListLit, hint Type) Type {
	if c.inKernel() {
		c.errorf(e.Span(), source.BadKernel, "list literals are not allowed in kernels")
		return TypInvalid
	}
	hint = unwrapOptional(hint)
	var elem Type
	hl, _ := Underlying(hint).(*List)
	if hl != nil {
		elem = hl.Elem
	}
	if len(e.Elems) == 0 {
		if hl == nil {
			c.errorf(e.Span(), source.CannotInfer, "cannot infer the type of an empty list; declare it, as in let xs: [int] = []")
			return TypInvalid
		}
		return hint
	}
	ok := true
	for i, x := range e.Elems {
		t := c.value(x, elem)
		if isInvalid(t) {
			ok = false
			continue
		}
		if elem == nil || i == 0 && hl == nil {
			if t == TypNone {
				c.errorf(x.Span(), source.CannotInfer, "cannot infer the element type of a list from none")
				return TypInvalid
			}
			elem = t
			continue
		}
		if !c.assignable(t, elem) {
			c.errorf(x.Span(), source.TypeMismatch, "cannot use %s (type %s) as %s in list literal", c.exprString(x), t, elem)
			ok = false
		}
	}
	if hl != nil {
		return hint
	}
	if elem == nil || !ok && elem == nil {
		return TypInvalid
	}
	return &List{Elem: elem}
}

func (c *checker) mapLit(e *syntax.MapLit, hint Type) Type {
	if c.inKernel() {
		c.errorf(e.Span(), source.BadKernel, "map literals are not allowed in kernels")
		return TypInvalid
	}
	hint = unwrapOptional(hint)
	hm, _ := Underlying(hint).(*Map)
	var key, elem Type
	if hm != nil {
		key, elem = hm.Key, hm.Elem
	}
	if len(e.Keys) == 0 {
		if hm == nil {
			c.errorf(e.Span(), source.CannotInfer, "cannot infer the type of an empty map; declare it, as in let m: [string: int] = [:]")
			return TypInvalid
		}
		return hint
	}
	for i, k := range e.Keys {
		kt := c.value(k, key)
		var v syntax.Expr
		if i < len(e.Values) {
			v = e.Values[i]
		}
		vt := c.value(v, elem)
		if key == nil {
			if !isInvalid(kt) && !validMapKey(kt) {
				c.errorf(k.Span(), source.TypeMismatch, "invalid map key type %s (must be string, int, bool or an enum)", kt)
				kt = TypInvalid
			}
			key = kt
		} else if !c.assignable(kt, key) {
			c.errorf(k.Span(), source.TypeMismatch, "cannot use %s (type %s) as map key of type %s", c.exprString(k), kt, key)
		}
		if elem == nil {
			elem = vt
		} else if v != nil && !c.assignable(vt, elem) {
			c.errorf(v.Span(), source.TypeMismatch, "cannot use %s (type %s) as %s in map literal", c.exprString(v), vt, elem)
		}
	}
	if hm != nil {
		return hint
	}
	if isInvalid(key) || isInvalid(elem) {
		return TypInvalid
	}
	return &Map{Key: key, Elem: elem}
}

// recordLit types { a: x, b: y }. With an expected record type the
// literal takes that type: unknown fields, missing non-optional fields and
// mistyped values are reported. Without one it gets a fresh structural
// record type.
func (c *checker) recordLit(e *syntax.RecordLit, hint Type) Type {
	if c.inKernel() {
		c.errorf(e.Span(), source.BadKernel, "record literals are not allowed in kernels")
		return TypInvalid
	}
	hint = unwrapOptional(hint)
	hr, _ := Underlying(hint).(*Record)
	if hr == nil {
		r := &Record{Fields: make([]*Field, 0, len(e.Fields))}
		bad := false
		for _, fi := range e.Fields {
			if fi == nil || fi.Name == nil {
				continue
			}
			t := c.value(fi.Value, nil)
			if r.Field(fi.Name.Name) != nil {
				c.errorf(fi.Name.Span(), source.DuplicateField, "duplicate field %s in record literal", fi.Name.Name)
				continue
			}
			if t == TypNone {
				c.errorf(fi.Value.Span(), source.CannotInfer, "cannot infer the type of field %s from none", fi.Name.Name)
				t = TypInvalid
			}
			if isInvalid(t) {
				bad = true
			}
			v := &Var{object: object{name: fi.Name.Name, kind: ObjField, typ: t, file: c.file, span: fi.Name.Span(), decl: e}}
			c.info.Uses[fi.Name] = v
			r.Fields = append(r.Fields, &Field{Name: fi.Name.Name, Type: t, Obj: v})
		}
		if bad {
			return TypInvalid
		}
		return r
	}
	var seen []string
	for _, fi := range e.Fields {
		if fi == nil || fi.Name == nil {
			continue
		}
		f := hr.Field(fi.Name.Name)
		var ft Type
		if f != nil {
			ft = f.Type
			if f.Obj != nil {
				c.info.Uses[fi.Name] = f.Obj
			}
		}
		t := c.value(fi.Value, ft)
		dup := false
		for _, s := range seen {
			if s == fi.Name.Name {
				dup = true
			}
		}
		switch {
		case dup:
			c.errorf(fi.Name.Span(), source.DuplicateField, "duplicate field %s in record literal", fi.Name.Name)
		case f == nil:
			d := c.errorf(fi.Name.Span(), source.UndefinedField, "unknown field %s in record literal of type %s", fi.Name.Name, hint)
			names := make([]string, len(hr.Fields))
			for i, f := range hr.Fields {
				names[i] = f.Name
			}
			c.suggestFix(d, fi.Name.Span(), fi.Name.Name, names)
		case !c.assignable(t, ft):
			c.errorf(fi.Value.Span(), source.TypeMismatch, "cannot use %s (type %s) as %s in field %s", c.exprString(fi.Value), t, ft, fi.Name.Name)
		}
		seen = append(seen, fi.Name.Name)
	}
	for _, f := range hr.Fields {
		if _, opt := Underlying(f.Type).(*Optional); opt {
			continue
		}
		found := false
		for _, s := range seen {
			if s == f.Name {
				found = true
				break
			}
		}
		if !found {
			c.errorf(e.Span(), source.TypeMismatch, "missing field %s in record literal of type %s", f.Name, hint)
		}
	}
	return hint
}
