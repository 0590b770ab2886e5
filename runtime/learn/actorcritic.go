// This file implements the actor-critic policy: a softmax policy and a
// value baseline on one small network, trained by policy gradient with
// the critic's advantage from minibatches of a prioritised replay, the
// gradient of each minibatch computed in shards on several goroutines.

package learn

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"sync"

	"gonum.org/v1/gonum/floats"
)

// acEntropy is the weight of the entropy bonus, which keeps the policy
// from settling before it has tried every candidate.
const acEntropy = 0.01

// acAgent trains the network of an actor-critic route.
type acAgent struct {
	cfg    RouteConfig
	shape  netShape
	theta  []float64
	opt    *adam
	replay *Replay[experience]
	scale  rewardScale
	seen   map[string]bool
	shards int
}

func newACAgent(cfg RouteConfig, n int, st *agentState, r *rand.Rand) *acAgent {
	shape := netShape{in: vectorDims, h: cfg.Hidden, k: n}
	a := &acAgent{cfg: cfg, shape: shape, replay: NewReplay[experience](cfg.Replay, cfg.PriorityAlpha), seen: map[string]bool{},
		shards: min(4, max(1, runtime.GOMAXPROCS(0)))}
	if st != nil && len(st.Net) == shape.size() {
		a.theta = append([]float64(nil), st.Net...)
		a.scale = st.Scale
		for _, k := range st.Seen {
			a.seen[k] = true
		}
	} else {
		a.theta = initNet(shape, r).theta
	}
	a.opt = newAdam(len(a.theta), cfg.LearningRate)
	return a
}

func (a *acAgent) learn(ex experience, r *rand.Rand) {
	a.scale.add(ex.reward)
	a.seen[ex.in.key] = true
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
	deltas := make([]float64, len(slots))
	for j, i := range slots {
		ex := a.replay.At(i)
		act := cur.forward(ex.in.x)
		target := (ex.reward - mean) / std
		adv := target - act.v
		// Truncated importance ratio of the current policy to the
		// one that decided: replayed choices of an old policy count
		// for less, never for more.
		rho := 1.0
		if ex.mu > 0 {
			rho = math.Min(1, act.pi[ex.action]/ex.mu)
		}
		samples[j] = sample{x: ex.in.x, a: ex.action, adv: weights[j] * rho * adv, target: target, wv: weights[j]}
		deltas[j] = adv
	}
	grads := make([][]float64, a.shards)
	var wg sync.WaitGroup
	per := (len(samples) + a.shards - 1) / a.shards
	for g := range a.shards {
		lo, hi := g*per, min((g+1)*per, len(samples))
		grads[g] = make([]float64, len(a.theta))
		if lo >= hi {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			gn := viewNet(a.shape, grads[g])
			for _, s := range samples[lo:hi] {
				cur.backward(s, acEntropy, gn)
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
	for j, i := range slots {
		a.replay.Update(i, deltas[j])
	}
}

func (a *acAgent) publish() snapshot {
	seen := make([]string, 0, len(a.seen))
	for k := range a.seen {
		seen = append(seen, k)
	}
	sort.Strings(seen)
	return &acSnap{net: viewNet(a.shape, append([]float64(nil), a.theta...)), eps: a.cfg.Epsilon, seen: seen}
}

func (a *acAgent) spread() float64 { return a.scale.std() }

func (a *acAgent) save() *agentState {
	s := a.publish().(*acSnap)
	return &agentState{Net: s.net.theta, Scale: a.scale, Seen: s.seen}
}

// acSnap is an immutable copy of the network.
type acSnap struct {
	net  *net
	eps  float64
	seen []string
}

// policy returns the probabilities choose draws from: the softmax mixed
// with eps of uniform choice, so that a candidate the network has given
// up on is still tried now and then (it may have become the best).
func (s *acSnap) policy(in input, n int) []float64 {
	pi := s.net.forward(in.x).pi
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

func (s *acSnap) prob(in input, n, a int) float64 { return s.policy(in, n)[a] }

func (s *acSnap) greedy(in input, n int) int { return argmax(s.net.forward(in.x).pi, n) }

func (s *acSnap) values(in input, n int) []float64 { return s.net.forward(in.x).pi }

func (s *acSnap) states() []string { return s.seen }
