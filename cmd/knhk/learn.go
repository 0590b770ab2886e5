// This file implements "knhk learn": the policies of the learned routes
// in a data directory (status, reset, export), and the policy that knhk
// run gives its engine.

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/learn"
)

var learnCmd = &command{
	name:      "learn",
	usageLine: "knhk learn [--data DIR] status [ROUTE] | reset ROUTE | export [-o FILE] [--json] ROUTE",
	short:     "show, reset or export the policies of learned routes",
	long: `Learn works on the policies of the learned routes (route learn) kept in
the data directory (--data, default ./.knhk), one file per route in its
learn/ folder. knhk run and knhk serve choose with them and train them
as the chosen calls end.

  status [ROUTE]   the policy of each route (or of ROUTE): its algorithm,
                   features and candidates, how many outcomes it learned
                   from and skipped, its mean reward over the last 100,
                   and for each state it has seen the score of each
                   candidate and the one it picks
  reset ROUTE      forget what ROUTE learned: its file is removed, and
                   the next run starts afresh (also the way to accept a
                   file that was refused because the route changed)
  export ROUTE     the learning curve of ROUTE as a PNG (-o FILE, default
                   ROUTE.png), or with --json the policy file itself

Each route's policy is set in learn/config.json of the data directory:

  {"default": {"policy": "thompson"},
   "routes": {"carrier": {"policy": "actor-critic"}}}

The policies are epsilon-greedy, ucb, thompson (the default),
q-learning, sarsa and actor-critic; docs/learning.md gives every
parameter.
`,
	setup: func(fs *flag.FlagSet) func(*env, []string) int {
		var o learnOptions
		fs.StringVar(&o.data, "data", ".knhk", "the data `DIR` holding the policies")
		fs.StringVar(&o.out, "o", "", "export: write to `FILE`")
		fs.BoolVar(&o.json, "json", false, "export: write the policy file as JSON")
		return func(e *env, args []string) int { return runLearn(e, &o, args) }
	},
}

type learnOptions struct {
	data string
	out  string
	json bool
}

func runLearn(e *env, o *learnOptions, args []string) int {
	if len(args) == 0 {
		return usageError(e, "want status, reset or export")
	}
	sub, args := args[0], args[1:]
	if (o.out != "" || o.json) && sub != "export" {
		return usageError(e, "-o and --json apply to export")
	}
	switch sub {
	case "status":
		if len(args) > 1 {
			return usageError(e, "status takes at most one ROUTE")
		}
		return learnStatus(e, o, args)
	case "reset":
		if len(args) != 1 {
			return usageError(e, "reset takes one ROUTE")
		}
		return learnReset(e, o, args[0])
	case "export":
		if len(args) != 1 {
			return usageError(e, "export takes one ROUTE")
		}
		return learnExport(e, o, args[0])
	}
	return usageError(e, "unknown subcommand %q (want status, reset or export)", sub)
}

// policyRoutes lists the routes with a policy file in dir.
func policyRoutes(dir string) ([]string, error) {
	ents, err := os.ReadDir(filepath.Join(dir, "learn"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, ent := range ents {
		if name, ok := strings.CutSuffix(ent.Name(), ".policy.json"); ok && !ent.IsDir() {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// validRoute reports whether name can be a route's name (an identifier;
// '.' and '-' too, as an embedding program's routes may have them), so
// that a path is never built from anything else.
func validRoute(name string) bool {
	if name == "" {
		return false
	}
	for i, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && (r >= '0' && r <= '9' || r == '.' || r == '-')) {
			return false
		}
	}
	return true
}

// readPolicy reads the policy file of route, with a message a user can
// act on when there is none.
func readPolicy(e *env, dir, route string) (*learn.File, bool) {
	if !validRoute(route) {
		fmt.Fprintf(e.stderr, "knhk learn: %q is not a route name\n", route)
		return nil, false
	}
	f, err := learn.ReadFile(learn.PolicyPath(dir, route))
	if errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(e.stderr, "knhk learn: no policy for route %s in %s (it has learned nothing yet)\n", route, dir)
		return nil, false
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "knhk learn: %v\n", err)
		return nil, false
	}
	return f, true
}

func learnStatus(e *env, o *learnOptions, args []string) int {
	routes := args
	if len(routes) == 0 {
		var err error
		if routes, err = policyRoutes(o.data); err != nil {
			fmt.Fprintf(e.stderr, "knhk learn: %v\n", err)
			return exitUser
		}
		if len(routes) == 0 {
			fmt.Fprintf(e.stdout, "no learned route has a policy in %s\n", o.data)
			return exitOK
		}
	}
	code := exitOK
	for i, r := range routes {
		f, ok := readPolicy(e, o.data, r)
		if !ok {
			code = exitUser
			continue
		}
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		printPolicy(e, f)
	}
	return code
}

// printPolicy writes the status of one route.
func printPolicy(e *env, f *learn.File) {
	w := e.stdout
	fmt.Fprintf(w, "route %s: %s\n", f.Route, f.Signature)
	fmt.Fprintf(w, "  learned from %d outcomes, skipped %d, saved %s\n", f.Updates, f.Skipped, f.Saved.UTC().Format("2006-01-02T15:04:05Z"))
	if m := f.Curve.RecentMean(); !math.IsNaN(m) {
		fmt.Fprintf(w, "  recent reward %.4g (mean of the last %d)\n", m, len(f.Curve.Recent))
	}
	prefs := f.Preferences()
	if len(prefs) == 0 {
		return
	}
	score := "mean reward"
	if f.Config.Policy == learn.ActorCritic {
		score = "probability"
	}
	fmt.Fprintf(w, "  %s of each candidate by state:\n", score)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "  state\t%s\tpicks\n", strings.Join(f.Signature.Candidates, "\t"))
	for _, p := range prefs {
		cells := make([]string, len(p.Scores))
		for i, s := range p.Scores {
			switch {
			case math.IsNaN(s) || math.IsInf(s, -1):
				cells[i] = "-"
			case p.Counts != nil:
				cells[i] = fmt.Sprintf("%.4g (%g)", s, p.Counts[i])
			default:
				cells[i] = fmt.Sprintf("%.3f", s)
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", p.State, strings.Join(cells, "\t"), f.Signature.Candidates[p.Best])
	}
	tw.Flush()
}

func learnReset(e *env, o *learnOptions, route string) int {
	if !validRoute(route) {
		fmt.Fprintf(e.stderr, "knhk learn: %q is not a route name\n", route)
		return exitUser
	}
	if serverOwns(e, o.data) {
		return exitUser
	}
	path := learn.PolicyPath(o.data, route)
	if err := os.Remove(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(e.stderr, "knhk learn: no policy for route %s in %s\n", route, o.data)
		} else {
			fmt.Fprintf(e.stderr, "knhk learn: %v\n", err)
		}
		return exitUser
	}
	fmt.Fprintf(e.stdout, "route %s: policy removed; it learns afresh from the next case\n", route)
	return exitOK
}

func learnExport(e *env, o *learnOptions, route string) int {
	f, ok := readPolicy(e, o.data, route)
	if !ok {
		return exitUser
	}
	var buf bytes.Buffer
	if o.json {
		b, err := json.MarshalIndent(f, "", "  ")
		if err != nil {
			fmt.Fprintf(e.stderr, "knhk learn: %v\n", err)
			return exitInternal
		}
		buf.Write(append(b, '\n'))
		if o.out == "" {
			e.stdout.Write(buf.Bytes())
			return exitOK
		}
	} else if err := f.Curve.WritePNG(&buf, route); err != nil {
		fmt.Fprintf(e.stderr, "knhk learn: %v\n", err)
		return exitUser
	}
	out := o.out
	if out == "" {
		out = route + ".png"
	}
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		fmt.Fprintf(e.stderr, "knhk learn: %v\n", err)
		return exitUser
	}
	fmt.Fprintf(e.stderr, "wrote %s\n", out)
	return exitOK
}

// learnPolicy returns the policy of prog's learned routes kept in data
// directory dir, and the function that saves it; a program without
// learned routes gets none (the engine's default). A bad
// learn/config.json is an error; a policy file that cannot be used is
// reported on standard error and left alone.
func learnPolicy(e *env, dir string, prog *ir.Program) (engine.Policy, func(), error) {
	has := false
	for _, n := range prog.Nets {
		for _, t := range n.Transitions {
			has = has || t.Kind == ir.TRoute
		}
	}
	if !has {
		return nil, func() {}, nil
	}
	p, err := learn.Open(prog, learn.Options{Dir: dir, Logf: func(format string, args ...any) {
		fmt.Fprintf(e.stderr, "knhk: "+format+"\n", args...)
	}})
	if err != nil {
		return nil, nil, err
	}
	return p, func() {
		if err := p.Close(); err != nil {
			fmt.Fprintf(e.stderr, "knhk: %v\n", err)
		}
	}, nil
}
