// This file implements the stable diagnostic codes.

package source

import "fmt"

// Code identifies a class of diagnostic. Codes are only ever appended, never
// renumbered, so that tools and suppressions can rely on them (like
// internal/types/errors in the Go toolchain).
type Code int

// The codes. Append new ones at the end of their block; never reorder.
const (
	_ Code = iota

	// Input and lexical problems (1xx).
	BadFile    Code = 100 + iota - 1 // unreadable, directory, not UTF-8, too large
	BadToken                         // a character that starts no token
	BadLiteral                       // malformed number, string, duration or time literal
	TooDeep                          // nesting beyond the parser's limit
	UnterminatedComment
)

const (
	// Syntax (2xx).
	SyntaxError Code = 200 + iota
	MissingPackage
	EmptyFile
)

const (
	// Resolution (3xx).
	UndefinedName Code = 300 + iota
	DuplicateDecl
	ImportNotFound
	ImportCycle
	UnusedVariable
	UnusedImport
	UndefinedField
	NotAType
	NotCallable
	BadImport
	NotAValue
)

const (
	// Types (4xx).
	TypeMismatch Code = 400 + iota
	WrongArgCount
	BadOperand
	NotAssignable
	MissingReturn
	UnreachableCode
	BadCondition
	BadKernel
	KernelRecursion
	KernelTaskCall
	KernelLoopBound
	BadReward
	BadSelect
	BadJoin
	BadClause
	DuplicateField
	BadCancel
	BadFlow
	ReturnValue
	BadDuration
	TaskInExpression
	Recursion
	BadBinding
	BadRoute
	MisplacedStatement
	CannotInfer
	BadIndex
	BadHook
	BadQuery
	Unsound        // a workflow net that can deadlock, livelock or leave tokens behind
	NotImplemented // a construct the compiler cannot lower yet
	BadSend        // a send statement whose signal, payload or target does not fit
)

var codeNames = map[Code]string{
	BadFile:             "bad-file",
	BadToken:            "bad-token",
	BadLiteral:          "bad-literal",
	TooDeep:             "too-deep",
	UnterminatedComment: "unterminated-comment",
	SyntaxError:         "syntax",
	MissingPackage:      "missing-package",
	EmptyFile:           "empty-file",
	UndefinedName:       "undefined",
	DuplicateDecl:       "duplicate",
	ImportNotFound:      "import-not-found",
	ImportCycle:         "import-cycle",
	UnusedVariable:      "unused-variable",
	UnusedImport:        "unused-import",
	UndefinedField:      "undefined-field",
	NotAType:            "not-a-type",
	NotCallable:         "not-callable",
	BadImport:           "bad-import",
	NotAValue:           "not-a-value",
	TypeMismatch:        "type-mismatch",
	WrongArgCount:       "wrong-arg-count",
	BadOperand:          "bad-operand",
	NotAssignable:       "not-assignable",
	MissingReturn:       "missing-return",
	UnreachableCode:     "unreachable",
	BadCondition:        "bad-condition",
	BadKernel:           "bad-kernel",
	KernelRecursion:     "kernel-recursion",
	KernelTaskCall:      "kernel-task-call",
	KernelLoopBound:     "kernel-loop-bound",
	BadReward:           "bad-reward",
	BadSelect:           "bad-select",
	BadJoin:             "bad-join",
	BadClause:           "bad-clause",
	DuplicateField:      "duplicate-field",
	BadCancel:           "bad-cancel",
	BadFlow:             "bad-flow",
	ReturnValue:         "return-value",
	BadDuration:         "bad-duration",
	TaskInExpression:    "task-in-expression",
	Recursion:           "recursion",
	BadBinding:          "bad-binding",
	BadRoute:            "bad-route",
	MisplacedStatement:  "misplaced-statement",
	CannotInfer:         "cannot-infer",
	BadIndex:            "bad-index",
	BadHook:             "bad-hook",
	BadQuery:            "bad-query",
	Unsound:             "unsound",
	NotImplemented:      "not-implemented",
	BadSend:             "bad-send",
}

// String returns the code as "K" followed by its number and its name, for
// example "K300 undefined".
func (c Code) String() string {
	if n, ok := codeNames[c]; ok {
		return fmt.Sprintf("K%d %s", int(c), n)
	}
	return fmt.Sprintf("K%d", int(c))
}

// Name returns the short stable name of the code, such as "undefined".
func (c Code) Name() string { return codeNames[c] }
