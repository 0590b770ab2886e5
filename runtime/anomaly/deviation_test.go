package anomaly_test

import (
	"testing"

	"github.com/knhk/knhk/runtime/anomaly"
)

// TestDeviations: a path that one deviation of a frequent path gives,
// and that the training traces follow rarely, scores above the frequent
// path, above a rare path no deviation of a training path gives, and
// above itself when it is frequent; each kind of deviation is counted.
func TestDeviations(t *testing.T) {
	var train [][]int
	for range 200 {
		train = append(train, []int{0, 1, 2, 3, 4})
	}
	train = append(train, []int{0, 2, 3, 4}, []int{5, 6})
	d := anomaly.TrainDeviations(train, 7)
	s := d.Score([][]int{{0, 1, 2, 3, 4}, {0, 2, 3, 4}, {5, 6}})
	if !(s[1] > s[0] && s[1] > s[2]) {
		t.Errorf("scores frequent %.3f, rare one skip away %.3f, rare and far %.3f: want the second highest", s[0], s[1], s[2])
	}
	for name, q := range map[string][]int{
		"skip":   {0, 1, 3, 4},
		"insert": {0, 1, 6, 2, 3, 4},
		"rework": {0, 1, 2, 1, 2, 3, 4},
		"swap":   {0, 2, 1, 3, 4},
		"early":  {0, 3, 1, 2, 4},
		"late":   {0, 2, 3, 1, 4},
	} {
		if v := d.Score([][]int{q})[0]; v < 0.5 {
			t.Errorf("%s %v scores %.3f, want at least 0.5", name, q, v)
		}
	}
	for range 300 {
		train = append(train, []int{0, 2, 3, 4})
	}
	if v := anomaly.TrainDeviations(train, 7).Score([][]int{{0, 2, 3, 4}})[0]; v >= s[1] {
		t.Errorf("a path followed more often than the one it deviates from scores %.3f, as much as when rare (%.3f)", v, s[1])
	}
}
