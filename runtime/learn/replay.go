// This file implements prioritised experience replay (Schaul et al.,
// 2016): experience i is sampled with probability P(i) = p_i^α / Σ p^α,
// and its update is weighted by w_i = (N·P(i))^-β / max_j w_j, which is
// in (0, 1].

package learn

import (
	"math"
	"math/rand/v2"
)

// Replay is a bounded prioritised replay buffer; the oldest experience
// is overwritten once it is full. It is used by one goroutine.
type Replay[T any] struct {
	items   []T
	tree    *sumTree
	next    int
	size    int
	alpha   float64
	maxPrio float64 // the largest p^α given so far: new experience gets it
	epsilon float64 // added to |δ| so that no experience is never sampled
}

// NewReplay returns a buffer of capacity n with priority exponent alpha
// (0: uniform sampling).
func NewReplay[T any](n int, alpha float64) *Replay[T] {
	if n < 1 {
		n = 1
	}
	return &Replay[T]{items: make([]T, n), tree: newSumTree(n), alpha: alpha, maxPrio: 1, epsilon: 1e-3}
}

// Len returns the number of experiences held.
func (r *Replay[T]) Len() int { return r.size }

// Add stores x with the largest priority seen, so that it is replayed
// at least once soon.
func (r *Replay[T]) Add(x T) {
	r.items[r.next] = x
	r.tree.set(r.next, r.maxPrio)
	r.next = (r.next + 1) % len(r.items)
	if r.size < len(r.items) {
		r.size++
	}
}

// AddPriority stores x with priority p (before the exponent).
func (r *Replay[T]) AddPriority(x T, p float64) {
	i := r.next
	r.Add(x)
	r.Update(i, p)
}

// Update sets the priority of slot i from its new TD error delta.
// A non-finite delta leaves the priority as it was.
func (r *Replay[T]) Update(i int, delta float64) {
	if math.IsNaN(delta) || math.IsInf(delta, 0) {
		return
	}
	p := math.Pow(math.Abs(delta)+r.epsilon, r.alpha)
	if p > r.maxPrio {
		r.maxPrio = p
	}
	r.tree.set(i, p)
}

// Prob returns P(i), the probability of sampling slot i.
func (r *Replay[T]) Prob(i int) float64 { return r.tree.get(i) / r.tree.total() }

// Sample draws k slots in proportion to priority, one from each of k
// equal strata of the total, and returns them with their importance
// weights for exponent beta, normalised by the largest weight any held
// experience can have so that each is in (0, 1].
func (r *Replay[T]) Sample(rng *rand.Rand, k int, beta float64) (slots []int, weights []float64) {
	if r.size == 0 || k <= 0 {
		return nil, nil
	}
	total := r.tree.total()
	seg := total / float64(k)
	n := float64(r.size)
	maxW := math.Pow(n*r.tree.minimum()/total, -beta)
	slots = make([]int, k)
	weights = make([]float64, k)
	for j := range k {
		u := (float64(j) + rng.Float64()) * seg
		if u >= total {
			u = math.Nextafter(total, 0)
		}
		i := r.tree.find(u)
		slots[j] = i
		w := math.Pow(n*r.tree.get(i)/total, -beta) / maxW
		weights[j] = math.Min(w, 1)
	}
	return slots, weights
}

// At returns the experience in slot i.
func (r *Replay[T]) At(i int) T { return r.items[i] }
