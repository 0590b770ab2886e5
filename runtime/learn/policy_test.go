// This file tests the policy's handling of bad input and of its files:
// a reward that is not finite, features of the wrong kind or number, a
// file from another format or route, a damaged file, a bad
// configuration. None of them may corrupt a policy or fail a case.

package learn

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/knhk/knhk/runtime/eval"
)

// logs collects what a policy reports.
type logs struct {
	mu    sync.Mutex
	lines []string
}

func (l *logs) logf(format string, args ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *logs) has(sub string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.lines {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func TestBadInputIsSkipped(t *testing.T) {
	prog := build(t, shipSrc)
	var lg logs
	dir := t.TempDir()
	p, err := Open(prog, Options{Dir: dir, Seed: 1, Logf: lg.logf})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	good := []any{"eu", int64(3)}
	for range 20 {
		k, _ := p.Choose(ctx, "carrier", eval.Values(good...), 2)
		p.Learn("carrier", eval.Values(good...), k, float64(-1-k), true)
	}
	p.Flush(ctx)
	before := p.routes["carrier"].agent.save()

	// Features of the wrong kind or number: the decision takes the
	// first candidate and says why; the outcome is skipped.
	for _, bad := range [][]any{{int64(1), int64(3)}, {"eu"}, {"eu", []any{1}}} {
		k, err := p.Choose(ctx, "carrier", eval.Values(bad...), 2)
		if err != nil || k != 0 {
			t.Errorf("Choose(%v) = %d, %v; want 0 and no error", bad, k, err)
		}
		p.Learn("carrier", eval.Values(bad...), 1, -1, true)
	}
	if !lg.has("feature 1 is a number (1), the route's is a string") || !lg.has("got 1 features, the route has 2") || !lg.has("not a scalar") {
		t.Errorf("reports do not say what was wrong: %q", lg.lines)
	}
	// Rewards that are not finite, choices out of range.
	for _, r := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		p.Learn("carrier", eval.Values(good...), 0, r, true)
	}
	p.Learn("carrier", eval.Values(good...), 7, -1, true)
	p.Learn("carrier", eval.Values(good...), -1, -1, true)
	if _, err := p.Choose(ctx, "carrier", eval.Values(good...), 3); err != nil {
		t.Errorf("choosing among the wrong number of candidates: %v", err)
	}
	p.Flush(ctx)
	if !lg.has("reward NaN is not a finite number") || !lg.has("reward +Inf") || !lg.has("candidate 8 of 2") {
		t.Errorf("reports do not name the bad reward or choice: %q", lg.lines)
	}
	after := p.routes["carrier"].agent.save()
	if fmt.Sprint(before.Table) != fmt.Sprint(after.Table) {
		t.Errorf("bad input changed the policy:\n%v\n%v", before.Table, after.Table)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(PolicyPath(dir, "carrier"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Updates != 20 || f.Skipped != 12 {
		t.Errorf("file: %d updates, %d skipped; want 20 and 12", f.Updates, f.Skipped)
	}
}

func TestForeignFileIsRefused(t *testing.T) {
	prog := build(t, shipSrc)
	dir := t.TempDir()
	ctx := context.Background()
	train := func(cfg *Config) {
		p, err := Open(prog, Options{Dir: dir, Config: cfg})
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			p.Learn("carrier", eval.Values("eu", int64(1)), 0, -2, true)
		}
		p.Flush(ctx)
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
	train(nil)
	path := PolicyPath(dir, "carrier")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		edit   func(string) string
		cfg    *Config
		prog   string
		report string
	}{
		{name: "newer format", edit: func(s string) string { return strings.Replace(s, `"version":1`, `"version":2`, 1) },
			report: "written by a knhk with policy format 2; this knhk reads format 1"},
		{name: "not a policy", edit: func(string) string { return `{"format":"other"}` }, report: `not a policy file (format "other")`},
		{name: "damaged", edit: func(s string) string { return s[:len(s)/2] }, report: "not a policy file"},
		{name: "other algorithm", cfg: &Config{Default: RouteConfig{Policy: ActorCritic}},
			report: "was trained for thompson over (string, number) choosing among {ups, fedex}; the route is now actor-critic"},
		{name: "other candidates", prog: strings.Replace(shipSrc, "fedex(n),", "fedex(n),\n    ups(n + 1),", 1),
			report: "the route is now thompson over (string, number) choosing among {ups, fedex, ups}"},
		{name: "non-finite number", edit: func(s string) string { return strings.Replace(s, `"mean":-2`, `"mean":1e999`, 1) }, report: "damaged policy file"},
		{name: "short row", edit: func(s string) string {
			return strings.Replace(s, `,{"n":0,"mean":0,"var":0}]`, `]`, 1)
		}, report: "damaged policy file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			content := string(orig)
			if tc.edit != nil {
				content = tc.edit(content)
				if content == string(orig) {
					t.Fatal("the edit changed nothing")
				}
			}
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			pr := prog
			if tc.prog != "" {
				pr = build(t, tc.prog)
			}
			var lg logs
			p, err := Open(pr, Options{Dir: dir, Config: tc.cfg, Logf: lg.logf})
			if err != nil {
				t.Fatal(err)
			}
			n := 2
			if tc.prog != "" {
				n = 3
			}
			for range 5 {
				k, _ := p.Choose(ctx, "carrier", eval.Values("eu", int64(1)), n)
				p.Learn("carrier", eval.Values("eu", int64(1)), k, -1, true)
			}
			p.Close()
			if !lg.has(tc.report) || !lg.has("knhk learn reset carrier") {
				t.Errorf("report %q does not say %q", lg.lines, tc.report)
			}
			if got, _ := os.ReadFile(path); string(got) != content {
				t.Errorf("the refused file was overwritten")
			}
		})
	}
	os.WriteFile(path, orig, 0o644)
}

func TestBadConfig(t *testing.T) {
	for _, tc := range []struct{ json, want string }{
		{`{"default":{"policy":"greedy"}}`, `unknown policy "greedy"`},
		{`{"routes":{"carrier":{"epsilon":2}}}`, "route carrier: epsilon 2 is outside [0, 1]"},
		{`{"default":{"polcy":"ucb"}}`, `unknown field "polcy"`},
		{`{"routes":{"carrier":{"bins":[[10,1]]}}}`, "bins of feature 1 are not in increasing order"},
		{`{"default":{}} {}`, "data after the configuration"},
	} {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "learn"), 0o755)
		os.WriteFile(filepath.Join(dir, ConfigFile), []byte(tc.json), 0o644)
		_, err := Open(build(t, shipSrc), Options{Dir: dir})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "config.json") {
			t.Errorf("%s: error %v, want one naming config.json and saying %q", tc.json, err, tc.want)
		}
	}
}

// TestConfigPerRoute: a route's settings override the default field by
// field, and bins change the states a table tells apart.
func TestConfigPerRoute(t *testing.T) {
	c, err := ParseConfig("c.json", []byte(`{"default":{"policy":"ucb","c":2},"routes":{"carrier":{"policy":"sarsa","bins":[null,[10]]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	rc := c.For("carrier")
	if rc.Policy != SARSA || rc.C != 2 || rc.Epsilon != 0.1 {
		t.Errorf("carrier: %+v", rc)
	}
	if o := c.For("other"); o.Policy != UCB || o.Bins != nil {
		t.Errorf("other: %+v", o)
	}
	e := encoder{kinds: []featureKind{fString, fNumber}, bins: rc.Bins}
	a, _ := e.encode(eval.Values("eu", int64(3)))
	b, _ := e.encode(eval.Values("eu", int64(9)))
	d, _ := e.encode(eval.Values("eu", int64(11)))
	if a.key != b.key || a.key == d.key {
		t.Errorf("bins [10]: keys %q %q %q; want the first two equal, the third apart", a.key, b.key, d.key)
	}
}

// TestConcurrentDecisions: decisions and outcomes from many goroutines
// while the trainers train and publish; every outcome is either learned
// or counted as dropped, and run under -race this checks that decisions
// only read published snapshots.
func TestConcurrentDecisions(t *testing.T) {
	for _, alg := range []Algorithm{Thompson, ActorCritic} {
		dir := t.TempDir()
		p, err := Open(build(t, shipSrc), Options{Dir: dir, Queue: 64, SaveEvery: 50, Config: &Config{Default: RouteConfig{Policy: alg}}})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		const workers, each = 8, 300
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					f := []any{[]string{"eu", "us"}[(w+i)%2], int64(i % 7)}
					k, err := p.Choose(ctx, "carrier", eval.Values(f...), 2)
					if err != nil || k < 0 || k > 1 {
						t.Errorf("Choose = %d, %v", k, err)
						return
					}
					p.Learn("carrier", eval.Values(f...), k, -float64(k+1), true)
				}
			}()
		}
		wg.Wait()
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		f, err := ReadFile(PolicyPath(dir, "carrier"))
		if err != nil {
			t.Fatal(err)
		}
		if f.Updates+f.Skipped != workers*each || f.Updates == 0 {
			t.Errorf("%s: %d learned + %d dropped, want %d in all", alg, f.Updates, f.Skipped, workers*each)
		}
	}
}

// TestUnsafeRouteName: a route an embedding program names like a path
// keeps its policy in memory, and no file is written outside learn/.
func TestUnsafeRouteName(t *testing.T) {
	dir := t.TempDir()
	var lg logs
	p, err := Open(nil, Options{Dir: filepath.Join(dir, "data"), Logf: lg.logf})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, name := range []string{"../../escape", "a/b", ""} {
		k, _ := p.Choose(ctx, name, eval.Values("x"), 2)
		p.Learn(name, eval.Values("x"), k, 1, true)
	}
	p.Close()
	if !lg.has(`route "../../escape": not a name a file can have`) {
		t.Errorf("reports: %q", lg.lines)
	}
	var files []string
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			files = append(files, path)
		}
		return nil
	})
	if len(files) != 0 {
		t.Errorf("files written: %v", files)
	}
}
