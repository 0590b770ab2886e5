// This file implements the universe scope: the predeclared types and
// builtin functions visible in every file.

package check

import (
	"sync"

	"github.com/knhk/knhk/lang/source"
)

// builtinID identifies a builtin function.
type builtinID uint8

const (
	bNone builtinID = iota
	bLen
	bSum
	bMap
	bFilter
	bAny
	bAll
	bKeys
	bValues
	bContains
	bMin
	bMax
	bAbs
	bExp
	bSqrt
	bLog
)

var builtinNames = [...]string{
	bLen: "len", bSum: "sum", bMap: "map", bFilter: "filter", bAny: "any",
	bAll: "all", bKeys: "keys", bValues: "values", bContains: "contains",
	bMin: "min", bMax: "max", bAbs: "abs", bExp: "exp", bSqrt: "sqrt",
	bLog: "log",
}

var (
	universeOnce  sync.Once
	universeScope *Scope
)

// universe returns the shared, read-only universe scope. File scopes point
// at it as their parent without registering as its children, so it is
// never written after it is built.
func universe() *Scope {
	universeOnce.Do(func() {
		s := &Scope{Span: source.Span{Start: 0, End: 1 << 62}}
		for _, t := range []*Basic{TypBool, TypInt, TypFloat, TypString, TypBytes, TypDuration, TypTime, TypF32, TypI32, TypU32} {
			s.Insert(&TypeName{object: object{name: t.Name, kind: ObjType, typ: t}, state: resolved})
		}
		for id := bLen; int(id) < len(builtinNames); id++ {
			s.Insert(&Callable{object: object{name: builtinNames[id], kind: ObjBuiltin}, builtin: id})
		}
		universeScope = s
	})
	return universeScope
}

// Universe returns the scope of predeclared types and builtins, for
// completion. It must not be modified.
func Universe() *Scope { return universe() }
