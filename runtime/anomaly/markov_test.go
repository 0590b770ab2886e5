package anomaly_test

import (
	"testing"

	"github.com/knhk/knhk/runtime/anomaly"
)

// TestMarkov: after a history the training traces always continue the
// same way, another next event scores far higher than the usual one; a
// step seen only after another history is judged by the shorter
// history, so that it scores between the usual and the never-seen.
func TestMarkov(t *testing.T) {
	var train [][]int
	for i := range 100 {
		train = append(train, []int{0, 1, 2, 3})
		if i%4 == 0 {
			train = append(train, []int{0, 4, 2, 5})
		}
	}
	m := anomaly.TrainMarkov(train, 6, 2)
	s := m.Score([][]int{{0, 1, 2, 3}, {0, 1, 2, 5}, {0, 1, 3, 2}})
	if !(s[1] > s[0] && s[2] > s[1]) {
		t.Errorf("scores usual %.3f, step seen after another history %.3f, never seen %.3f: want increasing", s[0], s[1], s[2])
	}
	// The longer history is what tells: 2 -> 5 is a usual step, but not
	// after 1 2.
	if b := anomaly.TrainMarkov(train, 6, 1).Score([][]int{{0, 1, 2, 5}})[0]; b >= s[1] {
		t.Errorf("the step seen after another history scores %.3f under the bigram model, %.3f with two activities of history: want higher with", b, s[1])
	}
	if s[0] > 1 {
		t.Errorf("a trace every training trace follows scores %.3f", s[0])
	}
	// The end counts as an event: a trace cut short scores high.
	if c := m.Score([][]int{{0, 1, 2}})[0]; c <= s[1] {
		t.Errorf("a trace cut short scores %.3f, no more than %.3f", c, s[1])
	}
}
