// This file tests the prioritised replay against its definition: the
// frequencies of sampled slots match P(i) = p_i^α / Σ p^α (chi-square),
// and the importance weights are (N·P(i))^-β normalised into (0, 1].

package learn

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

func TestReplaySampling(t *testing.T) {
	const n, alpha, beta = 37, 0.6, 0.4 // not a power of two: the tree's odd shape
	r := rand.New(rand.NewPCG(7, 7))
	buf := NewReplay[int](n, alpha)
	want := make([]float64, n)
	var sum float64
	for i := range n {
		delta := r.ExpFloat64() * 3
		if i == 5 {
			delta = 0 // still sampled now and then, thanks to ε
		}
		buf.Add(i)
		buf.Update(i, delta)
		want[i] = math.Pow(math.Abs(delta)+buf.epsilon, alpha)
		sum += want[i]
	}
	for i := range want {
		want[i] /= sum
		if math.Abs(buf.Prob(i)-want[i]) > 1e-12 {
			t.Fatalf("P(%d) = %v, want %v", i, buf.Prob(i), want[i])
		}
	}
	const draws = 200000
	counts := make([]float64, n)
	for range draws {
		slots, w := buf.Sample(r, 1, beta)
		counts[buf.At(slots[0])]++
		if !(w[0] > 0 && w[0] <= 1) {
			t.Fatalf("weight %v outside (0, 1]", w[0])
		}
	}
	var chi2 float64
	for i, c := range counts {
		e := want[i] * draws
		chi2 += (c - e) * (c - e) / e
	}
	crit := distuv.ChiSquared{K: n - 1}.Quantile(0.999)
	if chi2 > crit {
		t.Errorf("chi-square %.1f over %d degrees of freedom exceeds %.1f: sampling does not follow p^α/Σp^α", chi2, n-1, crit)
	}
	// A stratified minibatch: each weight is the formula's, the rarest
	// experience would weigh exactly 1.
	minP := 1.0
	for _, p := range want {
		minP = math.Min(minP, p)
	}
	slots, ws := buf.Sample(r, 32, beta)
	for j, s := range slots {
		w := math.Pow(n*want[s], -beta) / math.Pow(n*minP, -beta)
		if math.Abs(ws[j]-w) > 1e-9 || !(ws[j] > 0 && ws[j] <= 1) {
			t.Errorf("weight of slot %d = %v, want %v in (0, 1]", s, ws[j], w)
		}
	}
}

// TestReplayOverwrite fills the buffer past its capacity: the oldest
// slots are overwritten, a new experience takes the largest priority,
// and a non-finite error leaves a priority alone.
func TestReplayOverwrite(t *testing.T) {
	buf := NewReplay[string](3, 1)
	for _, s := range []string{"a", "b", "c", "d"} {
		buf.Add(s)
	}
	if buf.Len() != 3 || buf.At(0) != "d" {
		t.Fatalf("len %d, slot 0 %q; want 3 and the newest, d", buf.Len(), buf.At(0))
	}
	buf.Update(1, 9)
	p := buf.Prob(1)
	buf.Update(1, math.NaN())
	buf.Update(1, math.Inf(1))
	if buf.Prob(1) != p {
		t.Errorf("a non-finite error changed P(1) from %v to %v", p, buf.Prob(1))
	}
	buf.Add("e") // into slot 1, with the largest priority so far (9+ε)
	if math.Abs(buf.tree.get(1)-(9+buf.epsilon)) > 1e-12 {
		t.Errorf("new experience has priority %v, want the largest, %v", buf.tree.get(1), 9+buf.epsilon)
	}
}
