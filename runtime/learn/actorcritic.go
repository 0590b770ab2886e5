// This file implements the actor-critic policy: a softmax policy and a
// value baseline on one small network, trained by policy gradient with
// the critic's advantage from minibatches of a prioritised replay, the
// gradient of each minibatch computed in shards on several goroutines.

package learn

import (
	"math/rand/v2"
	"sort"
	"sync"

	"gonum.org/v1/gonum/floats"
)

// gradShards is the number of goroutines that compute a minibatch's
// gradient. It is fixed rather than taken from GOMAXPROCS so that the
// order of the floating-point sums, and so a seeded run, is the same on
// every machine.
const gradShards = 4

// maxSeen bounds the states an actor-critic remembers for status.
const maxSeen = 1024

// polyak is the weight of each step in the averaged parameters that
// decisions use: the average smooths the step-to-step jitter of
// minibatch training (a greedy choice flipping with every batch) and
// still follows a change within a few dozen steps.
const polyak = 0.05

// acEntropy is the weight of the entropy bonus, which keeps the policy
// from settling before it has tried every candidate.
const acEntropy = 0.1

// acAgent trains the network of an actor-critic route.
type acAgent struct {
	cfg    RouteConfig
	shape  netShape
	theta  []float64
	avg    []float64 // Polyak average of theta: what decisions use
	opt    *adam
	replay *Replay[experience]
	scale  rewardScale
	seen   map[string][]string // state key → its tokens, for status
	dict   map[string]int      // token → input slot
	tokens []string            // the tokens in slot order
	shards int
	grads  [][]float64 // one gradient buffer per shard
}

func newACAgent(cfg RouteConfig, n int, st *agentState, r *rand.Rand) *acAgent {
	shape := netShape{in: vectorDims, h: cfg.Hidden, k: n}
	a := &acAgent{cfg: cfg, shape: shape, replay: NewReplay[experience](cfg.Replay, cfg.PriorityAlpha), seen: map[string][]string{}, dict: map[string]int{},
		shards: gradShards}
	if st != nil && len(st.Net) == shape.size() {
		a.theta = append([]float64(nil), st.Net...) // the average, saved: training resumes from it
		a.scale = st.Scale
		for _, toks := range st.Seen {
			a.seen[keyOf(toks)] = toks
		}
		for _, tok := range st.Tokens {
			a.addToken(tok)
		}
	} else {
		a.theta = initNet(shape, r).theta
	}
	a.avg = append([]float64(nil), a.theta...)
	a.opt = newAdam(len(a.theta), cfg.LearningRate)
	return a
}

// addToken gives tok an input slot while there are slots left.
func (a *acAgent) addToken(tok string) {
	if _, ok := a.dict[tok]; !ok && len(a.tokens) < vectorDims-1 {
		a.dict[tok] = len(a.tokens)
		a.tokens = append(a.tokens, tok)
	}
}

func (a *acAgent) learn(ex experience, r *rand.Rand) {
	for _, tok := range ex.in.toks {
		a.addToken(tok)
	}
	a.scale.add(ex.reward)
	if len(a.seen) < maxSeen {
		a.seen[ex.in.key] = ex.in.toks
	}
	a.replay.Add(ex)
	if a.replay.Len() < a.cfg.Batch {
		return
	}
	for range a.cfg.Steps {
		a.trainBatch(r)
	}
}

// trainBatch samples a minibatch, computes its gradient on a.shards
// goroutines (each into its own buffer, summed in shard order so that
// the result does not depend on scheduling), steps the optimiser and
// updates the priorities with the critic's new errors.
func (a *acAgent) trainBatch(r *rand.Rand) {
	slots, weights := a.replay.Sample(r, a.cfg.Batch, a.cfg.PriorityBeta)
	cur := viewNet(a.shape, a.theta)
	mean, std := a.scale.Mean, a.scale.std()
	samples := make([]sample, len(slots))
	for j, i := range slots {
		ex := a.replay.At(i)
		samples[j] = sample{x: vectorOf(a.dict, ex.in.toks), a: ex.action, target: (ex.reward - mean) / std, w: weights[j]}
	}
	deltas := make([]float64, len(slots))
	if a.grads == nil {
		// Kept from batch to batch: training allocates little, so that
		// its garbage does not make decisions wait for the collector.
		a.grads = make([][]float64, a.shards)
		for g := range a.grads {
			a.grads[g] = make([]float64, len(a.theta))
		}
	}
	grads := a.grads
	var wg sync.WaitGroup
	per := (len(samples) + a.shards - 1) / a.shards
	for g := range a.shards {
		lo, hi := g*per, min((g+1)*per, len(samples))
		clear(grads[g])
		if lo >= hi {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			gn := viewNet(a.shape, grads[g])
			for j, s := range samples[lo:hi] {
				deltas[lo+j] = cur.backward(s, acEntropy, gn)
			}
		}()
	}
	wg.Wait()
	sum := grads[0]
	for _, g := range grads[1:] {
		floats.Add(sum, g)
	}
	floats.Scale(1/float64(len(samples)), sum)
	a.opt.step(a.theta, sum)
	floats.Scale(1-polyak, a.avg)
	floats.AddScaled(a.avg, polyak, a.theta)
	for j, i := range slots {
		a.replay.Update(i, deltas[j])
	}
}

func (a *acAgent) publish() snapshot {
	keys := make([]string, 0, len(a.seen))
	for k := range a.seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	seen := make([][]string, len(keys))
	for i, k := range keys {
		seen[i] = a.seen[k]
	}
	dict := make(map[string]int, len(a.dict))
	for k, v := range a.dict {
		dict[k] = v
	}
	return &acSnap{net: viewNet(a.shape, append([]float64(nil), a.avg...)), eps: a.cfg.Epsilon, seen: seen, dict: dict,
		tokens: append([]string(nil), a.tokens...)}
}

// vectorOf returns the network's input for toks: a one in the slot of
// each known token, and the bias.
func vectorOf(dict map[string]int, toks []string) []float64 {
	x := make([]float64, vectorDims)
	x[vectorDims-1] = 1
	for _, t := range toks {
		if i, ok := dict[t]; ok {
			x[i] = 1
		}
	}
	return x
}

func (a *acAgent) spread() float64 { return a.scale.std() }

func (a *acAgent) save() *agentState {
	s := a.publish().(*acSnap)
	return &agentState{Net: s.net.theta, Scale: a.scale, Seen: s.seen, Tokens: s.tokens}
}

// acSnap is an immutable copy of the network.
type acSnap struct {
	net    *net
	eps    float64
	seen   [][]string
	dict   map[string]int
	tokens []string
}

// policy returns the probabilities choose draws from: the softmax mixed
// with eps of uniform choice, so that a candidate the network has given
// up on is still tried now and then (it may have become the best).
func (s *acSnap) policy(in input, n int) []float64 {
	pi := s.net.forward(vectorOf(s.dict, in.toks)).pi
	for i := range pi {
		pi[i] = (1-s.eps)*pi[i] + s.eps/float64(n)
	}
	return pi
}

func (s *acSnap) choose(in input, n int, r rng) int {
	u := r.Float64()
	pi := s.policy(in, n)
	for i, p := range pi {
		if u < p {
			return i
		}
		u -= p
	}
	return n - 1
}

func (s *acSnap) greedy(in input, n int) int {
	return argmax(s.net.forward(vectorOf(s.dict, in.toks)).pi, n)
}

func (s *acSnap) values(in input, n int) []float64 {
	return s.net.forward(vectorOf(s.dict, in.toks)).pi
}

func (s *acSnap) states() []input {
	out := make([]input, len(s.seen))
	for i, toks := range s.seen {
		out[i] = input{key: keyOf(toks), toks: toks}
	}
	return out
}
