// This file implements Inspect, a depth-first traversal of every node of
// the syntax tree, for the checker, the formatter's tests and the language
// server.

package syntax

import "github.com/knhk/knhk/lang/source"

// Inspect traverses the tree rooted at n in source order. It calls f(n);
// if that returns true, Inspect visits each non-nil child of n and then
// calls f(nil), like go/ast.Inspect. Absent optional children (nil
// pointers, nil interfaces) are skipped, so f never sees a typed nil.
//
// The nodes it visits are *File, the declaration structs, *Param,
// *Binding, *Clause, *Type, *ListType, *RecordType, *EnumType, *NamedType,
// *Name, *StringLit, *Block, every statement, *When, *Else, *Join, *Arm,
// *Step, *Arc, every expression and *FieldInit (which has no span of its
// own; its Name and Value do). Comments are not visited: they are in
// File.Comments.
func Inspect(n any, f func(n any) bool) {
	if isNil(n) {
		return
	}
	if !f(n) {
		return
	}
	walkChildren(n, f)
	f(nil)
}

// isNil reports whether n is a nil interface or a typed nil pointer to one
// of the node types.
func isNil(n any) bool {
	switch n := n.(type) {
	case nil:
		return true
	case *File:
		return n == nil
	case *PackageDecl:
		return n == nil
	case *ImportDecl:
		return n == nil
	case *TypeDecl:
		return n == nil
	case *FnDecl:
		return n == nil
	case *TaskDecl:
		return n == nil
	case *KernelDecl:
		return n == nil
	case *WorkflowDecl:
		return n == nil
	case *Param:
		return n == nil
	case *Binding:
		return n == nil
	case *Clause:
		return n == nil
	case *Type:
		return n == nil
	case *ListType:
		return n == nil
	case *RecordType:
		return n == nil
	case *EnumType:
		return n == nil
	case *NamedType:
		return n == nil
	case *Name:
		return n == nil
	case *StringLit:
		return n == nil
	case *Block:
		return n == nil
	case *LetStmt:
		return n == nil
	case *GuardStmt:
		return n == nil
	case *FailStmt:
		return n == nil
	case *ReturnStmt:
		return n == nil
	case *Join:
		return n == nil
	case *ParallelStmt:
		return n == nil
	case *When:
		return n == nil
	case *Else:
		return n == nil
	case *ChooseStmt:
		return n == nil
	case *MultiStmt:
		return n == nil
	case *IfStmt:
		return n == nil
	case *ForStmt:
		return n == nil
	case *WhileStmt:
		return n == nil
	case *BranchStmt:
		return n == nil
	case *SelectStmt:
		return n == nil
	case *Arm:
		return n == nil
	case *CancelStmt:
		return n == nil
	case *RegionStmt:
		return n == nil
	case *CriticalStmt:
		return n == nil
	case *InterleaveStmt:
		return n == nil
	case *MilestoneStmt:
		return n == nil
	case *FlowStmt:
		return n == nil
	case *Step:
		return n == nil
	case *Arc:
		return n == nil
	case *RouteStmt:
		return n == nil
	case *HookStmt:
		return n == nil
	case *SignalDecl:
		return n == nil
	case *QueryDecl:
		return n == nil
	case *SendStmt:
		return n == nil
	case *BlockStmt:
		return n == nil
	case *ExprStmt:
		return n == nil
	case *Ident:
		return n == nil
	case *BasicLit:
		return n == nil
	case *UnaryExpr:
		return n == nil
	case *BinaryExpr:
		return n == nil
	case *SelectorExpr:
		return n == nil
	case *IndexExpr:
		return n == nil
	case *CallExpr:
		return n == nil
	case *ParenExpr:
		return n == nil
	case *ListLit:
		return n == nil
	case *MapLit:
		return n == nil
	case *FieldInit:
		return n == nil
	case *RecordLit:
		return n == nil
	case *LambdaExpr:
		return n == nil
	case *MilestoneExpr:
		return n == nil
	case *BadExpr:
		return n == nil
	}
	return false
}

func walkList[T any](list []T, f func(any) bool) {
	for _, x := range list {
		Inspect(x, f)
	}
}

func walkChildren(n any, f func(any) bool) {
	switch n := n.(type) {
	case *File:
		Inspect(n.Package, f)
		walkList(n.Imports, f)
		walkList(n.Decls, f)
	case *PackageDecl:
		Inspect(n.Name, f)
	case *ImportDecl:
		Inspect(n.Path, f)
		Inspect(n.Alias, f)
	case *TypeDecl:
		Inspect(n.Name, f)
		Inspect(n.Type, f)
	case *FnDecl:
		Inspect(n.Name, f)
		walkList(n.Params, f)
		Inspect(n.Result, f)
		Inspect(n.Body, f)
	case *TaskDecl:
		Inspect(n.Name, f)
		walkList(n.Params, f)
		Inspect(n.Result, f)
		Inspect(n.Binding, f)
		walkList(n.Clauses, f)
	case *KernelDecl:
		Inspect(n.Name, f)
		walkList(n.Params, f)
		Inspect(n.Result, f)
		Inspect(n.Body, f)
	case *WorkflowDecl:
		Inspect(n.Name, f)
		walkList(n.Params, f)
		Inspect(n.Result, f)
		Inspect(n.Body, f)
	case *Param:
		Inspect(n.Name, f)
		Inspect(n.Type, f)
	case *Binding:
		walkList(n.Exec, f)
		Inspect(n.Method, f)
		Inspect(n.URL, f)
		Inspect(n.Std, f)
		Inspect(n.Queue, f)
		Inspect(n.Symbol, f)
	case *Clause:
		Inspect(n.Value, f)
	case *Type:
		Inspect(n.List, f)
		Inspect(n.Record, f)
		Inspect(n.Enum, f)
		Inspect(n.Named, f)
	case *ListType:
		Inspect(n.Elem, f)
		Inspect(n.Value, f)
	case *RecordType:
		walkList(n.Fields, f)
	case *EnumType:
		walkList(n.Members, f)
	case *NamedType:
		walkList(n.Parts, f)
	case *Block:
		walkList(n.Stmts, f)
	case *LetStmt:
		Inspect(n.Name, f)
		Inspect(n.Type, f)
		Inspect(n.Value, f)
		walkList(n.Clauses, f)
	case *GuardStmt:
		Inspect(n.Cond, f)
		Inspect(n.Message, f)
	case *FailStmt:
		Inspect(n.Message, f)
	case *ReturnStmt:
		Inspect(n.Value, f)
	case *Join:
		Inspect(n.Count, f)
	case *ParallelStmt:
		Inspect(n.Body, f)
		Inspect(n.Join, f)
	case *When:
		Inspect(n.Cond, f)
		Inspect(n.Body, f)
	case *Else:
		Inspect(n.Body, f)
	case *ChooseStmt:
		walkList(n.Whens, f)
		Inspect(n.Else, f)
	case *MultiStmt:
		walkList(n.Whens, f)
		Inspect(n.Else, f)
	case *IfStmt:
		Inspect(n.Cond, f)
		Inspect(n.Then, f)
		Inspect(n.ElseIf, f)
		Inspect(n.Else, f)
	case *ForStmt:
		Inspect(n.Var, f)
		Inspect(n.Iter, f)
		Inspect(n.Limit, f)
		Inspect(n.Body, f)
		Inspect(n.Join, f)
	case *WhileStmt:
		Inspect(n.Cond, f)
		Inspect(n.Body, f)
	case *SelectStmt:
		walkList(n.Arms, f)
	case *Arm:
		Inspect(n.Signal, f)
		walkList(n.Params, f)
		Inspect(n.Timer, f)
		Inspect(n.Done, f)
		Inspect(n.As, f)
		Inspect(n.Body, f)
	case *CancelStmt:
		Inspect(n.Target, f)
	case *RegionStmt:
		Inspect(n.Name, f)
		Inspect(n.Body, f)
	case *CriticalStmt:
		Inspect(n.Name, f)
		Inspect(n.Body, f)
	case *InterleaveStmt:
		Inspect(n.Body, f)
	case *MilestoneStmt:
		Inspect(n.Name, f)
		Inspect(n.Body, f)
	case *FlowStmt:
		walkList(n.Items, f)
	case *Step:
		Inspect(n.Name, f)
		Inspect(n.Call, f)
		walkList(n.Clauses, f)
	case *Arc:
		walkList(n.From, f)
		walkList(n.To, f)
		Inspect(n.Join, f)
		Inspect(n.When, f)
	case *RouteStmt:
		Inspect(n.Name, f)
		walkList(n.Features, f)
		walkList(n.Candidates, f)
		Inspect(n.Reward, f)
	case *HookStmt:
		Inspect(n.Name, f)
		Inspect(n.Target, f)
		Inspect(n.Cond, f)
		Inspect(n.Body, f)
	case *SignalDecl:
		Inspect(n.Name, f)
		walkList(n.Params, f)
	case *QueryDecl:
		Inspect(n.Name, f)
		Inspect(n.Result, f)
		Inspect(n.Value, f)
	case *SendStmt:
		Inspect(n.Workflow, f)
		Inspect(n.Signal, f)
		walkList(n.Args, f)
		Inspect(n.To, f)
	case *BlockStmt:
		Inspect(n.Block, f)
	case *ExprStmt:
		Inspect(n.X, f)
		Inspect(n.Value, f)
		walkList(n.Clauses, f)
	case *UnaryExpr:
		Inspect(n.X, f)
	case *BinaryExpr:
		Inspect(n.X, f)
		Inspect(n.Y, f)
	case *SelectorExpr:
		Inspect(n.X, f)
		Inspect(n.Sel, f)
	case *IndexExpr:
		Inspect(n.X, f)
		Inspect(n.Index, f)
	case *CallExpr:
		Inspect(n.Fun, f)
		walkList(n.Args, f)
	case *ParenExpr:
		Inspect(n.X, f)
	case *ListLit:
		walkList(n.Elems, f)
	case *MapLit:
		for i := range n.Keys {
			Inspect(n.Keys[i], f)
			if i < len(n.Values) {
				Inspect(n.Values[i], f)
			}
		}
	case *FieldInit:
		Inspect(n.Name, f)
		Inspect(n.Value, f)
	case *RecordLit:
		walkList(n.Fields, f)
	case *LambdaExpr:
		walkList(n.Params, f)
		Inspect(n.Body, f)
	case *MilestoneExpr:
		Inspect(n.Name, f)
	}
}

// SpanOf reports n's span when n has one: every node except *FieldInit.
func SpanOf(n any) (source.Span, bool) {
	if s, ok := n.(source.Spanned); ok && !isNil(n) {
		return s.Span(), true
	}
	return source.Span{}, false
}
