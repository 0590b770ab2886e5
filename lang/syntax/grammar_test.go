package syntax

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGrammarFile keeps grammar.ebnf at the repository root in step with
// the parser: the file must be exactly what Grammar() prints after its
// header comment. KNHK_UPDATE=1 rewrites it.
func TestGrammarFile(t *testing.T) {
	path := filepath.Join("..", "..", "grammar.ebnf")
	const header = "(* KNHK grammar. Generated from the parser (lang/syntax) by\n   KNHK_UPDATE=1 go test ./lang/syntax -run TestGrammarFile; a test fails\n   when the two differ. Terminals: <ident> <keyword> <int> <float> <string>\n   <duration> <time>; quoted strings are literal tokens. Words that are not\n   reserved (see docs/language.md) are matched by their text. *)\n\n"
	want := header + Grammar()
	if os.Getenv("KNHK_UPDATE") != "" {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading grammar.ebnf: %v", err)
	}
	if string(got) != want {
		t.Errorf("grammar.ebnf is out of date with the parser; run KNHK_UPDATE=1 go test ./lang/syntax -run TestGrammarFile\n--- diff hint: file has %d lines, parser prints %d", strings.Count(string(got), "\n"), strings.Count(want, "\n"))
	}
}

// TestGrammarMentionsEveryStatement makes sure no statement kind is left
// out of the generated grammar.
func TestGrammarMentionsEveryStatement(t *testing.T) {
	g := Grammar()
	for _, rule := range []string{"LetStmt", "GuardStmt", "FailStmt", "ReturnStmt", "ParallelStmt", "ChooseStmt", "MultiStmt", "IfStmt", "ForStmt", "WhileStmt", "BranchStmt", "SelectStmt", "CancelStmt", "RegionStmt", "CriticalStmt", "InterleaveStmt", "MilestoneStmt", "FlowStmt", "RouteStmt", "HookStmt", "SignalDecl", "QueryDecl", "BlockStmt", "ExprStmt", "Block", "Type", "Expr", "Step", "Arc"} {
		if !strings.Contains(g, "\n"+rule+" = ") && !strings.HasPrefix(g, rule+" = ") {
			t.Errorf("grammar has no rule for %s", rule)
		}
	}
}
