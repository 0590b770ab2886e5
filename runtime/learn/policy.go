// This file implements Policy, the engine's learner: decisions on the
// caller's goroutine from an atomically published snapshot, outcomes
// queued to one trainer goroutine per route.

package learn

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
)

// Options configures a [Policy].
type Options struct {
	// Dir is the data directory: the configuration is read from
	// Dir/learn/config.json and the policies are kept in Dir/learn. An
	// empty Dir keeps them in memory.
	Dir string
	// Config, when not nil, is used instead of Dir's configuration.
	Config *Config
	// Seed, when not zero, makes decisions and training draw from
	// generators seeded with it, so that a simulation that feeds
	// outcomes in a fixed order (see [Policy.Flush]) is reproducible.
	// Decisions then take a lock; unseeded ones take none.
	Seed uint64
	// Logf reports outcomes skipped for bad input and policy files
	// refused; nil discards the reports.
	Logf func(format string, args ...any)
	// Queue is how many outcomes per route may wait for the trainer
	// (default 4096); more are dropped and counted, never waited for.
	Queue int
	// SaveEvery is how many outcomes pass between two saves of a
	// route's policy (default 256); Close saves the rest.
	SaveEvery int
}

// Policy is an [engine.Learner] over every learned route of a program.
// Its methods are safe for concurrent use.
type Policy struct {
	opts   Options
	cfg    *Config
	coord  *coordinator
	routes map[string]*route // fixed at Open
	extra  sync.Map          // routes not in the program, made on first use
	quit   chan struct{}
	wg     sync.WaitGroup
	closed atomic.Bool
}

var _ engine.Learner = (*Policy)(nil)

// item is what a trainer receives: an outcome, or a flush request.
type item struct {
	ex  experience
	ok  bool
	ack chan struct{}
}

// route is the policy of one learned route.
type route struct {
	name       string
	sig        Signature
	cfg        RouteConfig
	enc        encoder
	coordinate bool
	snap       atomic.Pointer[snapHolder]
	in         chan item
	pending    pendingSet
	decide     rng
	skipped    atomic.Int64

	// Owned by the trainer goroutine.
	agent   agent
	r       *rand.Rand
	file    File
	path    string // "" when the policy is not persisted
	unsaved int
}

// snapHolder wraps a snapshot for the atomic pointer.
type snapHolder struct{ s snapshot }

// lockedRand serialises a seeded generator.
type lockedRand struct {
	mu sync.Mutex
	r  *rand.Rand
}

func (l *lockedRand) Float64() float64 { l.mu.Lock(); defer l.mu.Unlock(); return l.r.Float64() }
func (l *lockedRand) IntN(n int) int   { l.mu.Lock(); defer l.mu.Unlock(); return l.r.IntN(n) }
func (l *lockedRand) NormFloat64() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.NormFloat64()
}

// routeDecl is a learned route as the program declares it.
type routeDecl struct {
	candidates []string
	kinds      []featureKind
}

// Routes returns the learned routes of prog by name, with their
// candidates' names and their features' kinds. A route declared twice
// (the same name in two workflows) keeps its first declaration.
func routes(prog *ir.Program) map[string]routeDecl {
	out := map[string]routeDecl{}
	if prog == nil {
		return out
	}
	for _, n := range prog.Nets {
		for _, t := range n.Transitions {
			if t.Kind != ir.TRoute {
				continue
			}
			if _, ok := out[t.Label]; ok {
				continue
			}
			var d routeDecl
			for _, c := range t.Candidates {
				d.candidates = append(d.candidates, callName(prog, c))
			}
			for _, f := range t.Features {
				k := fAny
				if int(f) >= 0 && int(f) < len(prog.Funcs) {
					k = kindOfType(prog.KindOf(prog.Funcs[f].Result))
				}
				d.kinds = append(d.kinds, k)
			}
			out[t.Label] = d
		}
	}
	return out
}

func callName(prog *ir.Program, c *ir.Call) string {
	switch {
	case c.Kind == ir.CallTask && int(c.Target) < len(prog.Tasks):
		return prog.Tasks[c.Target].Name
	case c.Kind == ir.CallWorkflow && int(c.Target) < len(prog.Nets):
		return prog.Nets[c.Target].Name
	}
	return fmt.Sprintf("#%d", c.Target)
}

// Open returns the policy of every learned route of prog, each restored
// from its file in opts.Dir when there is one that matches the route. A
// file that does not match (another knhk's format, other candidates,
// features or algorithm) or is damaged is reported through opts.Logf and
// left alone: the route learns afresh in memory until the file is
// removed (knhk learn reset). Only a bad configuration is an error.
func Open(prog *ir.Program, opts Options) (*Policy, error) {
	if opts.Queue <= 0 {
		opts.Queue = 4096
	}
	if opts.SaveEvery <= 0 {
		opts.SaveEvery = 256
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	cfg := opts.Config
	if cfg == nil {
		if opts.Dir == "" {
			cfg = &Config{}
		} else {
			var err error
			if cfg, err = ReadConfig(opts.Dir); err != nil {
				return nil, err
			}
		}
	}
	p := &Policy{opts: opts, cfg: cfg, coord: &coordinator{load: map[string]*atomic.Int64{}}, routes: map[string]*route{}, quit: make(chan struct{})}
	decls := routes(prog)
	users := map[string]int{} // routes per candidate task
	for _, d := range decls {
		seen := map[string]bool{}
		for _, c := range d.candidates {
			if !seen[c] {
				users[c]++
				seen[c] = true
			}
		}
	}
	names := make([]string, 0, len(decls))
	for n := range decls {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		d := decls[name]
		shared := false
		for _, c := range d.candidates {
			shared = shared || users[c] > 1
		}
		r := p.newRoute(name, d, shared)
		if r.coordinate {
			for _, c := range d.candidates {
				if p.coord.load[c] == nil {
					p.coord.load[c] = new(atomic.Int64)
				}
			}
		}
		p.routes[name] = r
	}
	for _, r := range p.routes {
		p.start(r)
	}
	return p, nil
}

// newRoute makes route name, restoring it from its file.
func (p *Policy) newRoute(name string, d routeDecl, shared bool) *route {
	cfg := p.cfg.For(name)
	coordinate := shared
	if cfg.Coordinate != nil {
		coordinate = *cfg.Coordinate
	}
	kinds := make([]string, len(d.kinds))
	for i, k := range d.kinds {
		kinds[i] = k.String()
	}
	sig := Signature{Policy: cfg.Policy, Candidates: d.candidates, Features: kinds, Coordinate: coordinate}
	r := &route{name: name, sig: sig, cfg: cfg, enc: encoder{kinds: d.kinds, bins: cfg.Bins}, coordinate: coordinate,
		in: make(chan item, p.opts.Queue), pending: pendingSet{m: map[pendingKey][]decision{}}}
	seed := p.opts.Seed
	h := fnv.New64a()
	h.Write([]byte(name))
	if seed == 0 {
		seed = rand.Uint64()
		r.decide = globalRand{}
	} else {
		r.decide = &lockedRand{r: rand.New(rand.NewPCG(seed, h.Sum64()))}
	}
	r.r = rand.New(rand.NewPCG(seed^0x9e3779b97f4a7c15, h.Sum64()))
	r.file = File{Format: FormatName, Version: FormatVersion, Route: name, Signature: sig, Config: cfg}
	var st *agentState
	if p.opts.Dir != "" && !safeName(name) {
		p.opts.Logf("learn: route %q: not a name a file can have; its policy is kept in memory only", name)
	} else if p.opts.Dir != "" {
		path := PolicyPath(p.opts.Dir, name)
		f, err := ReadFile(path)
		switch {
		case errors.Is(err, errNotExist):
			r.path = path
		case err != nil:
			p.opts.Logf("learn: route %s: %v; learning afresh without saving (knhk learn reset %s removes the file)", name, err, name)
		case !f.Signature.equal(sig) || f.Route != name:
			p.opts.Logf("learn: route %s: %s was trained for %s; the route is now %s; learning afresh without saving (knhk learn reset %s removes the file)", name, path, f.Signature, sig, name)
		default:
			r.path = path
			r.file = *f
			r.file.Config = cfg
			st = f.State
		}
	}
	r.agent = newAgent(cfg, len(d.candidates), st, r.r)
	r.snap.Store(&snapHolder{r.agent.publish()})
	return r
}

// safeName reports whether a route's name can name its policy file: a
// program's routes are identifiers, but an embedding program may name a
// route anything.
func safeName(name string) bool {
	if name == "" || len(name) > 200 {
		return false
	}
	for i, c := range name {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && (c >= '0' && c <= '9' || c == '.' || c == '-')) {
			return false
		}
	}
	return true
}

// start runs r's trainer.
func (p *Policy) start(r *route) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.train(r)
	}()
}

// lookup returns the route called name, making one for a route the
// program did not declare (an embedding program's own route) from the
// first decision's shape.
func (p *Policy) lookup(name string, features []eval.Value, n int) *route {
	if r := p.routes[name]; r != nil {
		return r
	}
	if r, ok := p.extra.Load(name); ok {
		return r.(*route)
	}
	d := routeDecl{kinds: make([]featureKind, len(features))}
	for i := range n {
		d.candidates = append(d.candidates, fmt.Sprintf("#%d", i+1))
	}
	r, loaded := p.extra.LoadOrStore(name, p.newRoute(name, d, false))
	if !loaded && !p.closed.Load() {
		p.start(r.(*route))
	}
	return r.(*route)
}

// Choose picks one of n candidates of route from features. It never
// fails a case: features of the wrong kind or number are reported and
// the first candidate is taken, as without a policy.
func (p *Policy) Choose(_ context.Context, name string, features []eval.Value, n int) (int, error) {
	r := p.lookup(name, features, n)
	if n != len(r.sig.Candidates) {
		r.skip(p, "route %s: asked to choose among %d candidates, the route has %d; taking the first", name, n, len(r.sig.Candidates))
		return 0, nil
	}
	base, err := r.enc.encode(features)
	if err != nil {
		r.skip(p, "route %s: %v; taking the first candidate", name, err)
		return 0, nil
	}
	in := base
	var loads []int
	if r.coordinate {
		loads = p.coord.loads(r.sig.Candidates)
		in = withLoads(base, loads)
	}
	s := r.snap.Load().s
	k := s.choose(in, n, r.decide)
	if r.coordinate {
		r.pending.push(pendingKey{base.key, k}, decision{loads: loads})
		p.coord.add(r.sig.Candidates[k], 1)
	}
	return k, nil
}

// Greedy returns the candidate route's current snapshot believes best
// for features, without exploring: what the policy has learned.
func (p *Policy) Greedy(name string, features []eval.Value, loads []int) (int, error) {
	r := p.routes[name]
	if r == nil {
		v, ok := p.extra.Load(name)
		if !ok {
			return 0, fmt.Errorf("no route %s", name)
		}
		r = v.(*route)
	}
	in, err := r.enc.encode(features)
	if err != nil {
		return 0, err
	}
	if r.coordinate {
		in = withLoads(in, loads)
	}
	return r.snap.Load().s.greedy(in, len(r.sig.Candidates)), nil
}

// Learn queues the outcome of a decision for route's trainer. A reward
// that is not finite, a choice out of range or features that do not fit
// are reported and skipped; a full queue drops the outcome. Learn never
// blocks.
func (p *Policy) Learn(name string, features []eval.Value, choice int, reward float64, ok bool) {
	r := p.lookup(name, features, 0)
	n := len(r.sig.Candidates)
	if choice < 0 || choice >= n {
		r.skip(p, "route %s: outcome of candidate %d of %d skipped", name, choice+1, n)
		return
	}
	base, err := r.enc.encode(features)
	var d decision
	var known bool
	if err == nil {
		d, known = r.pending.pop(pendingKey{base.key, choice})
	}
	if r.coordinate && known {
		p.coord.add(r.sig.Candidates[choice], -1)
	}
	if err != nil {
		r.skip(p, "route %s: outcome skipped: %v", name, err)
		return
	}
	if math.IsNaN(reward) || math.IsInf(reward, 0) {
		r.skip(p, "route %s: outcome skipped: reward %v is not a finite number", name, reward)
		return
	}
	in := base
	if r.coordinate {
		if !known {
			// Decided before this process started (a recovered case):
			// the loads now stand in for those it saw.
			d.loads = p.coord.loads(r.sig.Candidates)
		}
		in = withLoads(base, d.loads)
	}
	if p.closed.Load() {
		return
	}
	select {
	case r.in <- item{ex: experience{in: in, action: choice, reward: reward}, ok: ok}:
	default:
		r.skipped.Add(1) // the trainer is behind: drop rather than wait
	}
}

// skip counts and reports an outcome or decision that bad input made the
// policy pass over.
func (r *route) skip(p *Policy, format string, args ...any) {
	r.skipped.Add(1)
	p.opts.Logf("learn: "+format, args...)
}

// Flush waits until every outcome given to Learn before it has been
// learned and its snapshot published.
func (p *Policy) Flush(ctx context.Context) error {
	var rs []*route
	for _, r := range p.routes {
		rs = append(rs, r)
	}
	p.extra.Range(func(_, v any) bool { rs = append(rs, v.(*route)); return true })
	for _, r := range rs {
		ack := make(chan struct{})
		select {
		case r.in <- item{ack: ack}:
		case <-ctx.Done():
			return ctx.Err()
		case <-p.quit:
			return errClosed
		}
		select {
		case <-ack:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

var errClosed = errors.New("learn: policy closed")

// Close learns the outcomes queued, saves every policy and stops the
// trainers. It returns the first error saving.
func (p *Policy) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	close(p.quit)
	p.wg.Wait()
	var first error
	save := func(r *route) {
		if err := r.save(); err != nil && first == nil {
			first = err
		}
	}
	for _, r := range p.routes {
		save(r)
	}
	p.extra.Range(func(_, v any) bool { save(v.(*route)); return true })
	return first
}

// train is r's trainer: it learns each outcome, publishes a snapshot
// after each batch of queued outcomes, and saves now and then.
func (p *Policy) train(r *route) {
	for {
		select {
		case it := <-r.in:
			r.handle(it)
			for more := true; more; {
				select {
				case it := <-r.in:
					r.handle(it)
				default:
					more = false
				}
			}
			r.snap.Store(&snapHolder{r.agent.publish()})
			if r.unsaved >= p.opts.SaveEvery {
				if err := r.save(); err != nil {
					p.opts.Logf("learn: route %s: %v", r.name, err)
				}
			}
		case <-p.quit:
			for {
				select {
				case it := <-r.in:
					r.handle(it)
				default:
					r.snap.Store(&snapHolder{r.agent.publish()})
					return
				}
			}
		}
	}
}

// handle learns one outcome, or acknowledges a flush once the snapshot
// holds everything before it.
func (r *route) handle(it item) {
	if it.ack != nil {
		r.snap.Store(&snapHolder{r.agent.publish()})
		close(it.ack)
		return
	}
	ex := it.ex
	if !it.ok {
		ex.reward = r.failureReward()
	} else if r.file.Worst == nil || ex.reward < *r.file.Worst {
		w := ex.reward
		r.file.Worst = &w
	}
	r.agent.learn(ex, r.r)
	r.file.Curve.Add(ex.reward)
	r.file.Updates++
	r.unsaved++
}

// failureReward is what a failed call earns: less than any success seen
// (by one spread of the rewards), so that failing is never better than
// succeeding slowly; 0 before any success, the engine's failure reward.
func (r *route) failureReward() float64 {
	if r.file.Worst == nil {
		return 0
	}
	return math.Min(0, *r.file.Worst-r.agent.spread())
}

// save writes r's policy file, when r keeps one.
func (r *route) save() error {
	if r.path == "" {
		return nil
	}
	r.file.State = r.agent.save()
	r.file.Skipped += r.skipped.Swap(0)
	r.file.Saved = timeNow()
	r.unsaved = 0
	if err := writeFile(r.path, &r.file); err != nil {
		return fmt.Errorf("save policy of route %s: %w", r.name, err)
	}
	return nil
}
