package predict

import (
	"strings"
	"testing"

	"github.com/knhk/knhk/runtime/predict/gbt"
)

// TestUnmarshalNextFeatures: the next-activity model learns from the
// first nextDim features only, so a saved one that splits on a later
// feature (a time since an activity) is refused; the last of its own
// features is read back.
func TestUnmarshalNextFeatures(t *testing.T) {
	enc := encoder{A: 2}
	split := func(feature, outputs int) *gbt.Model {
		g := &gbt.Model{Base: make([]float64, outputs), LR: 0.1}
		round := make([]*gbt.Tree, outputs)
		for k := range round {
			round[k] = &gbt.Tree{Nodes: []gbt.Node{{Feature: feature, Left: 1, Right: 2}, {Value: -1}, {Value: 1}}}
		}
		g.Trees = [][]*gbt.Tree{round}
		return g
	}
	for _, c := range []struct {
		feature int
		ok      bool
	}{{enc.nextDim() - 1, true}, {enc.nextDim(), false}, {enc.dim() - 1, false}} {
		m := &Model{Names: []string{"a", "b"}, enc: enc, Level: 0.9, Q: 1, MaxTarget: 2,
			next: split(c.feature, 3), median: split(enc.dim()-1, 1), lo: split(0, 1), hi: split(0, 1)}
		_, err := Unmarshal((&Saved{Descriptor: "d", Cases: 5, Model: m}).Marshal())
		if (err == nil) != c.ok || err != nil && !strings.Contains(err.Error(), "feature") {
			t.Errorf("next model splitting on feature %d of %d: %v", c.feature, enc.nextDim(), err)
		}
	}
}
