// This file implements growing one regression tree on binned features
// from per-row gradients and hessians (second-order boosting, as in
// XGBoost and LightGBM): a split's gain is G_L²/(H_L+λ) + G_R²/(H_R+λ)
// − G²/(H+λ), a leaf's value −G/(H+λ) unless the loss sets it. Each
// node's histogram of gradients per bin is summed over its rows for the
// smaller child only; the larger child's is its parent's minus that.

package gbt

// Tree is a binary regression tree over raw feature values.
type Tree struct {
	Nodes []Node
}

// Node is an inner node (Left > 0) or a leaf.
type Node struct {
	Feature     int
	Threshold   float64 // a row goes left when its value is at most this
	Left, Right int     // child indices; 0 for a leaf
	Value       float64 // the leaf's output
}

// Predict returns the tree's output for one row of raw features.
func (t *Tree) Predict(x []float64) float64 {
	n := &t.Nodes[0]
	for n.Left > 0 {
		if x[n.Feature] <= n.Threshold {
			n = &t.Nodes[n.Left]
		} else {
			n = &t.Nodes[n.Right]
		}
	}
	return n.Value
}

// grower holds what growing trees on one binned matrix needs.
type grower struct {
	bins    *Bins
	cols    int
	binned  []uint8 // row-major bins of the training rows
	off     []int   // where each feature's bins start in a histogram
	total   int     // histogram length
	depth   int
	minLeaf int
	lambda  float64
	free    []*hist
}

// hist is the sum of gradients, hessians and rows per bin.
type hist struct {
	g, h []float64
	n    []int32
}

func (gr *grower) newHist() *hist {
	if k := len(gr.free); k > 0 {
		h := gr.free[k-1]
		gr.free = gr.free[:k-1]
		clear(h.g)
		clear(h.h)
		clear(h.n)
		return h
	}
	return &hist{g: make([]float64, gr.total), h: make([]float64, gr.total), n: make([]int32, gr.total)}
}

func (gr *grower) release(h *hist) { gr.free = append(gr.free, h) }

// build sums the rows' gradients into a fresh histogram.
func (gr *grower) build(rows []int, g, h []float64) *hist {
	hs := gr.newHist()
	for _, r := range rows {
		gi, hi := g[r], h[r]
		bs := gr.binned[r*gr.cols : (r+1)*gr.cols]
		for f, b := range bs {
			i := gr.off[f] + int(b)
			hs.g[i] += gi
			hs.h[i] += hi
			hs.n[i]++
		}
	}
	return hs
}

type split struct {
	gain    float64
	feature int
	bin     int
}

// grow builds a tree on rows (indices into the training rows) from
// gradients g and hessians h; leaf sets a leaf's value from its rows
// (nil: Newton's −G/(H+λ)). It reorders rows.
func (gr *grower) grow(rows []int, g, h []float64, leaf func(rows []int) float64) *Tree {
	t := &Tree{}
	var hs *hist
	if gr.depth > 0 && len(rows) >= 2*gr.minLeaf {
		hs = gr.build(rows, g, h)
	}
	gr.node(t, rows, g, h, hs, 0, leaf)
	return t
}

// node grows the subtree of rows, whose histogram is hs (nil when it
// cannot split), and releases hs.
func (gr *grower) node(t *Tree, rows []int, g, h []float64, hs *hist, depth int, leaf func([]int) float64) int {
	id := len(t.Nodes)
	t.Nodes = append(t.Nodes, Node{})
	var G, H float64
	for _, r := range rows {
		G += g[r]
		H += h[r]
	}
	best := split{feature: -1}
	if hs != nil {
		best = gr.best(hs, len(rows), G, H)
	}
	if best.feature < 0 {
		if hs != nil {
			gr.release(hs)
		}
		if leaf != nil {
			t.Nodes[id].Value = leaf(rows)
		} else {
			t.Nodes[id].Value = -G / (H + gr.lambda)
		}
		return id
	}
	// Partition rows in place: left first.
	f := best.feature
	i, j := 0, len(rows)-1
	for i <= j {
		if int(gr.binned[rows[i]*gr.cols+f]) <= best.bin {
			i++
		} else {
			rows[i], rows[j] = rows[j], rows[i]
			j--
		}
	}
	left, right := rows[:i], rows[i:]
	var hl, hr *hist
	splits := func(n int) bool { return depth+1 < gr.depth && n >= 2*gr.minLeaf }
	if splits(len(left)) || splits(len(right)) {
		small, large := left, right
		if len(small) > len(large) {
			small, large = large, small
		}
		hsmall := gr.build(small, g, h)
		for k := range hs.g {
			hs.g[k] -= hsmall.g[k]
			hs.h[k] -= hsmall.h[k]
			hs.n[k] -= hsmall.n[k]
		}
		hl, hr = hsmall, hs
		if len(left) > len(right) {
			hl, hr = hs, hsmall
		}
		if !splits(len(left)) {
			gr.release(hl)
			hl = nil
		}
		if !splits(len(right)) {
			gr.release(hr)
			hr = nil
		}
	} else {
		gr.release(hs)
	}
	t.Nodes[id].Feature = f
	t.Nodes[id].Threshold = gr.bins.Cuts[f][best.bin]
	l := gr.node(t, left, g, h, hl, depth+1, leaf)
	r := gr.node(t, right, g, h, hr, depth+1, leaf)
	t.Nodes[id].Left, t.Nodes[id].Right = l, r
	return id
}

// best finds the split with the largest gain, if any gains.
func (gr *grower) best(hs *hist, n int, G, H float64) split {
	best := split{feature: -1}
	parent := G * G / (H + gr.lambda)
	for f, cuts := range gr.bins.Cuts {
		o := gr.off[f]
		var gl, hl float64
		nl := 0
		for b := range cuts {
			gl += hs.g[o+b]
			hl += hs.h[o+b]
			nl += int(hs.n[o+b])
			if nl < gr.minLeaf {
				continue
			}
			if n-nl < gr.minLeaf {
				break
			}
			g2, h2 := G-gl, H-hl
			gain := gl*gl/(hl+gr.lambda) + g2*g2/(h2+gr.lambda) - parent
			if gain > best.gain+1e-12 {
				best = split{gain: gain, feature: f, bin: b}
			}
		}
	}
	return best
}
