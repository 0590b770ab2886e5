// This file implements the hand-written parsers for the statements that
// make up most of a workflow body: let/var, expression statements and
// assignments, guard, fail, if, for and nested blocks. The rarer statements
// (parallel, choose, select, flow, ...) stay participle productions; see
// dispatch.go.

package syntax

import "github.com/alecthomas/participle/v2/lexer"

// stmtGrammar documents the hand-written statement parsers.
const stmtGrammar = `LetStmt = ("let" | "var") Name (":" Type)? "=" Expr Clause* .
ExprStmt = Expr ("=" Expr)? Clause* .
GuardStmt = "guard" Expr "else" "fail" Expr .
FailStmt = "fail" Expr .
IfStmt = "if" Expr Block ("else" (IfStmt | Block))? .
ForStmt = "for" Name "in" Expr ("parallel" ("limit" Expr)? ("more" "on" Name)?)? Block Join? .
BlockStmt = Block .`

func parseLetStmt(lex *lexer.PeekingLexer) (Stmt, error) {
	s := &LetStmt{}
	begin(&s.Node, lex)
	t := lex.Next()
	s.Keyword = t.Value
	var err error
	if s.Name, err = parseName(lex, "a variable name"); err != nil {
		return nil, err
	}
	if isPunct(lex.Peek(), ":") {
		lex.Next()
		if s.Type, err = parseType(lex); err != nil {
			return nil, err
		}
	}
	if err := want(lex, "="); err != nil {
		return nil, err
	}
	if s.Value, err = parseExprReq(lex); err != nil {
		return nil, err
	}
	if s.Clauses, err = parseClauses(lex); err != nil {
		return nil, err
	}
	finish(&s.Node, lex)
	return s, nil
}

func parseExprStmt(lex *lexer.PeekingLexer) (Stmt, error) {
	s := &ExprStmt{}
	begin(&s.Node, lex)
	var err error
	if s.X, err = parseExprReq(lex); err != nil {
		return nil, err
	}
	if isPunct(lex.Peek(), "=") {
		lex.Next()
		if s.Value, err = parseExprReq(lex); err != nil {
			return nil, err
		}
	}
	if s.Clauses, err = parseClauses(lex); err != nil {
		return nil, err
	}
	finish(&s.Node, lex)
	return s, nil
}

func parseGuardStmt(lex *lexer.PeekingLexer) (Stmt, error) {
	s := &GuardStmt{}
	begin(&s.Node, lex)
	lex.Next()
	var err error
	if s.Cond, err = parseExprReq(lex); err != nil {
		return nil, err
	}
	if err := want(lex, "else"); err != nil {
		return nil, err
	}
	if err := want(lex, "fail"); err != nil {
		return nil, err
	}
	if s.Message, err = parseExprReq(lex); err != nil {
		return nil, err
	}
	finish(&s.Node, lex)
	return s, nil
}

func parseFailStmt(lex *lexer.PeekingLexer) (Stmt, error) {
	s := &FailStmt{}
	begin(&s.Node, lex)
	lex.Next()
	var err error
	if s.Message, err = parseExprReq(lex); err != nil {
		return nil, err
	}
	finish(&s.Node, lex)
	return s, nil
}

func parseIfStmt(lex *lexer.PeekingLexer) (Stmt, error) {
	return parseIf(lex)
}

// parseIf parses an if statement; an else-if chain is a loop here, not
// recursion, so a long chain cannot exhaust the stack.
func parseIf(lex *lexer.PeekingLexer) (*IfStmt, error) {
	var first, prev *IfStmt
	for {
		s := &IfStmt{}
		begin(&s.Node, lex)
		lex.Next() // "if"
		var err error
		if s.Cond, err = parseExprReq(lex); err != nil {
			return nil, err
		}
		if s.Then, err = parseBlock(lex); err != nil {
			return nil, err
		}
		if first == nil {
			first = s
		} else {
			prev.ElseIf = s
		}
		prev = s
		if !isWord(lex.Peek(), "else") {
			break
		}
		lex.Next()
		if n := lex.Peek(); isWord(n, "if") {
			continue
		} else if !isPunct(n, "{") {
			return nil, unexpected(n, `"if" or a block "{ ... }" after else`)
		}
		if s.Else, err = parseBlock(lex); err != nil {
			return nil, err
		}
		break
	}
	// Every if in the chain ends where the chain ends.
	end := lex.Peek().Pos
	for s := first; s != nil; s = s.ElseIf {
		s.EndPos = end
	}
	return first, nil
}

func parseForStmt(lex *lexer.PeekingLexer) (Stmt, error) {
	s := &ForStmt{}
	begin(&s.Node, lex)
	lex.Next()
	var err error
	if s.Var, err = parseName(lex, "a loop variable"); err != nil {
		return nil, err
	}
	if err := want(lex, "in"); err != nil {
		return nil, err
	}
	if s.Iter, err = parseExprReq(lex); err != nil {
		return nil, err
	}
	if isWord(lex.Peek(), "parallel") {
		lex.Next()
		s.Parallel = true
		if isWord(lex.Peek(), "limit") {
			lex.Next()
			if s.Limit, err = parseExprReq(lex); err != nil {
				return nil, err
			}
		}
		if isWord(lex.Peek(), "more") {
			lex.Next()
			if err := want(lex, "on"); err != nil {
				return nil, err
			}
			if s.More, err = parseName(lex, "a signal name"); err != nil {
				return nil, err
			}
		}
	}
	if s.Body, err = parseBlock(lex); err != nil {
		return nil, err
	}
	if s.Join, err = parseJoin(lex); err != nil {
		return nil, err
	}
	finish(&s.Node, lex)
	return s, nil
}

func parseBlockStmt(lex *lexer.PeekingLexer) (Stmt, error) {
	s := &BlockStmt{}
	begin(&s.Node, lex)
	var err error
	if s.Block, err = parseBlock(lex); err != nil {
		return nil, err
	}
	finish(&s.Node, lex)
	return s, nil
}
