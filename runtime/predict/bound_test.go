package predict_test

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/knhk/knhk/runtime/eventlog/eventlogtest"
	"github.com/knhk/knhk/runtime/predict"
)

// looMAE is the MAE in days of predicting each prefix by the median
// remaining time of the other prefixes with the same key (by the
// baseline when it has none): a predictor that has seen the scored
// prefixes themselves, all but the one it predicts.
func looMAE(ps []predict.Prefix, key func(predict.Prefix) string, base *predict.Baseline) float64 {
	groups := map[string][]float64{}
	for _, p := range ps {
		groups[key(p)] = append(groups[key(p)], p.Remaining)
	}
	for _, g := range groups {
		slices.Sort(g)
	}
	sum := 0.0
	for _, p := range ps {
		g := groups[key(p)]
		pred := base.Remaining(p)
		if len(g) > 1 {
			j, _ := slices.BinarySearch(g, p.Remaining)
			at := func(r int) float64 { // rank r among g without g[j]
				if r >= j {
					r++
				}
				return g[r]
			}
			m := len(g) - 1
			pred = at(m / 2)
			if m%2 == 0 {
				pred = (at(m/2-1) + at(m/2)) / 2
			}
		}
		sum += math.Abs(pred - p.Remaining)
	}
	return sum / float64(len(ps)) / 86400
}

// TestRemainingTimeBound backs docs/mining.md's account of the MAE goal
// of 0.9 times the baseline: on helpdesk.csv even predictors that see
// the test third itself (leave-one-out medians of its prefixes with the
// same last activity, or the same activities so far) stay above 0.95
// times the baseline, so the goal is beyond what the log holds, not a
// matter of the model.
func TestRemainingTimeBound(t *testing.T) {
	d, err := predict.FromLog(eventlogtest.Read(t, "helpdesk.csv"), 5)
	if err != nil {
		t.Fatal(err)
	}
	train, test := d.Split(2.0 / 3)
	base := predict.NewBaseline(predict.Prefixes(train, true))
	ps := predict.Prefixes(test, false)
	baseMAE := 0.0
	for _, p := range ps {
		baseMAE += math.Abs(base.Remaining(p) - p.Remaining)
	}
	baseMAE /= float64(len(ps)) * 86400
	if math.Abs(baseMAE-6.426) > 0.001 {
		t.Errorf("baseline MAE %.4f d, want the README's 6.42 (6.426)", baseMAE)
	}
	for _, k := range []struct {
		name string
		key  func(predict.Prefix) string
	}{
		{"last activity", func(p predict.Prefix) string { return fmt.Sprint(p.Case.Acts[p.K-1]) }},
		{"activities so far", func(p predict.Prefix) string {
			var b strings.Builder
			for _, a := range p.Case.Acts[:p.K] {
				fmt.Fprintf(&b, "%d,", a)
			}
			return b.String()
		}},
	} {
		r := looMAE(ps, k.key, base) / baseMAE
		t.Logf("leave-one-out on the test third by %s: %.3f times the baseline", k.name, r)
		if r < 0.95 {
			t.Errorf("by %s: %.3f times the baseline, below the 0.95 docs/mining.md reports", k.name, r)
		}
	}
}
