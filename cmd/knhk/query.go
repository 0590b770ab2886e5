// This file implements "knhk query": the workflow's query declarations
// evaluated over a case's current variables.

package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"strconv"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/caseio"
	"github.com/knhk/knhk/runtime/engine"
)

var queryCmd = &command{
	name:      "query",
	usageLine: "knhk query [--data DIR] CASE [NAME]",
	short:     "evaluate a case's queries and print them as JSON",
	long: `Query evaluates the query declarations of case CASE's workflow over the
case's current variables and prints the result as JSON: an object with
one member per query, in declaration order, or the value of query NAME
alone. The case is read from the data directory (--data, default
./.knhk) and is not run: query changes nothing, and works on ended cases
too.

Query exits with status 1 for an unknown case or query, and when a
query cannot be evaluated (for example because it reads a variable that
has no value yet).
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		data := fs.String("data", ".knhk", "the data `DIR` holding the case")
		srv := serverFlag(fs)
		return func(e *env, args []string) int {
			if *srv != "" {
				return remoteQuery(e, *srv, args)
			}
			return runQuery(e, *data, args)
		}
	},
}

func runQuery(e *env, data string, args []string) int {
	if len(args) < 1 || len(args) > 2 {
		return usageError(e, "want CASE [NAME], got %d arguments", len(args))
	}
	ctx := context.Background()
	d, c, s, code := openCaseData(ctx, e, data, args[0], false)
	if d == nil {
		return code
	}
	defer d.close()
	p := c.prog
	net := p.Nets[s.Net]
	qs := net.Queries
	if len(args) == 2 {
		qs = nil
		for _, q := range net.Queries {
			if q != nil && q.Name == args[1] {
				qs = append(qs, q)
			}
		}
		if len(qs) == 0 {
			var names []string
			for _, q := range net.Queries {
				names = append(names, q.Name)
			}
			fmt.Fprintf(e.stderr, "knhk: workflow %s has no query %s (it declares: %s)\n", net.Name, args[1], listOrNone(names))
			return exitUser
		}
	}
	var out bytes.Buffer
	if len(args) == 1 {
		out.WriteByte('{')
	}
	for i, q := range qs {
		b, err := evalQuery(ctx, p, s, q)
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk: query %s of case %s: %v\n", q.Name, s.ID, err)
			return exitUser
		}
		if len(args) == 1 {
			if i > 0 {
				out.WriteByte(',')
			}
			out.WriteString(strconv.Quote(q.Name))
			out.WriteByte(':')
		}
		out.Write(b)
	}
	if len(args) == 1 {
		out.WriteByte('}')
	}
	out.WriteByte('\n')
	e.stdout.Write(out.Bytes())
	return exitOK
}

// evalQuery evaluates q over the root variables of s and returns its JSON.
func evalQuery(ctx context.Context, p *ir.Program, s *engine.State, q *ir.Query) ([]byte, error) {
	// A built binary evaluates the query with its compiled functions.
	if err := appProgram(p); err != nil {
		return nil, err
	}
	return caseio.QueryWith(ctx, evaluatorOf(p), p, s, q)
}
