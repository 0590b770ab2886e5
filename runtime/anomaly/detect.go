// This file implements the two detectors and the threshold.

package anomaly

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/knhk/knhk/runtime/predict/nn"
)

// Options tune the autoencoder.
type Options struct {
	Steps int // minibatch steps (default 2000)
	Code  int // size of the bottleneck (default 4)
	// Ensemble is how many networks, from different random starts,
	// score each trace together (the mean of their errors; default 5):
	// one network's F1 varies by several points with its seed.
	Ensemble int
	Seed     uint64
	// Contamination is the share of cases to flag (default 0.1).
	Contamination float64
}

// Autoencoder scores each trace by how badly autoencoders reconstruct
// its features: the mean squared error over the standardised features.
// The networks train on the distinct traces, each once: trained on all,
// they learn the few paths most cases follow and little else, and rare
// but normal paths then score like anomalies (on helpdesk, F1 0.58
// against 0.70). A log with fewer than 50 distinct paths (a young data
// directory) is learned case by case and with weight decay instead,
// since networks reconstruct every one of a handful of paths exactly.
func Autoencoder(traces [][]int, acts int, o Options) []float64 {
	if o.Steps == 0 {
		o.Steps = 2000
	}
	if o.Code == 0 {
		o.Code = 4
	}
	if o.Ensemble == 0 {
		o.Ensemble = 5
	}
	fz := newFeaturizer(traces, acts)
	d := fz.dim()
	all := mat.NewDense(len(traces), d, nil)
	for i, t := range traces {
		fz.features(all.RawRowView(i), t)
	}
	standardise(all)
	seen := map[string]bool{}
	var distinct []int
	for i, t := range traces {
		if k := key(t); !seen[k] {
			seen[k] = true
			distinct = append(distinct, i)
		}
	}
	decay := 0.0
	if len(distinct) < minDistinct {
		// A handful of paths: any network reconstructs each of them
		// exactly, however often it saw it. Seen as often as they
		// happen, and with weight decay so that it cannot fit them all,
		// it fits the frequent ones best.
		distinct = distinct[:0]
		for i := range traces {
			distinct = append(distinct, i)
		}
		decay = 10
	}
	x := mat.NewDense(len(distinct), d, nil)
	for j, i := range distinct {
		x.SetRow(j, all.RawRowView(i))
	}
	scores := make([]float64, len(traces))
	for m := range o.Ensemble {
		rng := rand.New(rand.NewPCG(o.Seed, 0x616e6f6d+uint64(m)))
		hidden := min(64, max(2*o.Code, d/2))
		net := nn.New([]int{d, hidden, o.Code, hidden, d}, nn.Tanh, rng)
		net.Decay = decay
		net.Fit(x, x, nn.MSE{}, o.Steps, 64, 0.003, rng)
		out := net.Forward(all)
		for i := range traces {
			a, b := all.RawRowView(i), out.RawRowView(i)
			s := 0.0
			for j := range a {
				s += (a[j] - b[j]) * (a[j] - b[j])
			}
			scores[i] += s / float64(d) / float64(o.Ensemble)
		}
	}
	return scores
}

// minDistinct is how many distinct paths a log needs for the network to
// learn from each path once rather than from every case.
const minDistinct = 50

func key(t []int) string {
	b := make([]byte, 0, 2*len(t))
	for _, a := range t {
		b = append(b, byte(a), byte(a>>8))
	}
	return string(b)
}

// standardise scales each column to mean 0 and deviation 1 (constant
// columns to 0).
func standardise(x *mat.Dense) {
	r, c := x.Dims()
	for j := 0; j < c; j++ {
		m, v := 0.0, 0.0
		for i := 0; i < r; i++ {
			m += x.At(i, j)
		}
		m /= float64(r)
		for i := 0; i < r; i++ {
			v += (x.At(i, j) - m) * (x.At(i, j) - m)
		}
		s := math.Sqrt(v / float64(r))
		for i := 0; i < r; i++ {
			if s < 1e-9 {
				x.Set(i, j, 0)
			} else {
				x.Set(i, j, (x.At(i, j)-m)/s)
			}
		}
	}
}

// NGram scores each trace by the negative log-likelihood of its least
// likely step (end included) under the trigram model of all traces,
// with add-one smoothing: one rare transition makes a trace score high,
// however long it is.
func NGram(traces [][]int, acts int) []float64 {
	const start, end = -1, -2
	type key [3]int
	tri, bi := map[key]int{}, map[[2]int]int{}
	walk := func(t []int, f func(a, b, c int)) {
		p2, p1 := start, start
		for _, x := range append(slices.Clone(t), end) {
			f(p2, p1, x)
			p2, p1 = p1, x
		}
	}
	for _, t := range traces {
		walk(t, func(a, b, c int) { tri[key{a, b, c}]++; bi[[2]int{a, b}]++ })
	}
	v := float64(acts + 1)
	scores := make([]float64, len(traces))
	for i, t := range traces {
		worst := 0.0
		walk(t, func(a, b, c int) {
			worst = max(worst, -math.Log((float64(tri[key{a, b, c}])+1)/(float64(bi[[2]int{a, b}])+v)))
		})
		scores[i] = worst
	}
	return scores
}

// Threshold returns the score above which the given share of the
// cases lies (the contamination, as scikit-learn's outlier detectors
// call it): the detector is told how many anomalies to expect, not
// which. Ties at the threshold are not flagged.
func Threshold(scores []float64, contamination float64) float64 {
	s := slices.Clone(scores)
	slices.Sort(s)
	k := int(math.Round(contamination * float64(len(s))))
	if k >= len(s) {
		return math.Inf(-1)
	}
	return s[len(s)-k-1] // the highest score not flagged
}

// F1 scores flags (score > threshold) against labels (anything but
// Normal is an anomaly): precision, recall and F1.
func F1(scores []float64, threshold float64, labels []Kind) (p, r, f float64) {
	tp, fp, fn := 0, 0, 0
	for i, s := range scores {
		flagged, anomalous := s > threshold, labels[i] != Normal
		switch {
		case flagged && anomalous:
			tp++
		case flagged:
			fp++
		case anomalous:
			fn++
		}
	}
	if tp == 0 {
		return 0, 0, 0
	}
	p, r = float64(tp)/float64(tp+fp), float64(tp)/float64(tp+fn)
	return p, r, 2 * p * r / (p + r)
}

// BestF1 is the F1 of the best threshold in hindsight: an upper bound
// no unlabelled rule reaches, reported beside the rule's F1.
func BestF1(scores []float64, labels []Kind) float64 {
	idx := make([]int, len(scores))
	pos := 0
	for i := range idx {
		idx[i] = i
		if labels[i] != Normal {
			pos++
		}
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(scores[b], scores[a]) })
	// Flag the top k for every k at which the score changes.
	best, tp := 0.0, 0
	for k, i := range idx {
		if labels[i] != Normal {
			tp++
		}
		if k+1 < len(idx) && scores[idx[k+1]] == scores[i] {
			continue
		}
		if tp > 0 {
			p, r := float64(tp)/float64(k+1), float64(tp)/float64(pos)
			best = max(best, 2*p*r/(p+r))
		}
	}
	return best
}
