package anomaly_test

import (
	"testing"

	"github.com/knhk/knhk/runtime/anomaly"
)

// TestSequenceCap: an anomaly on a path of its own costs nothing; one on
// the path of two normal traces costs either its recall or two false
// alarms, whichever is cheaper.
func TestSequenceCap(t *testing.T) {
	n, s := anomaly.Normal, anomaly.Skip
	traces := [][]int{{0, 1}, {0, 1}, {0, 2}, {0, 1}, {1, 1}}
	if c := anomaly.SequenceCap(traces, []anomaly.Kind{n, n, s, n, s}); c != 1 {
		t.Errorf("anomalies on paths of their own: cap %v, want 1", c)
	}
	// TP 1 of 2 flagging {0,2} only: 2/(1+2) = 0.667; flagging {0,1}
	// too: TP 2, flagged 4: 4/6 = 0.667.
	if c := anomaly.SequenceCap(traces, []anomaly.Kind{n, n, s, s, n}); c < 0.666 || c > 0.667 {
		t.Errorf("one anomaly on a normal path: cap %v, want 2/3", c)
	}
	if c := anomaly.SequenceCap(traces, make([]anomaly.Kind, len(traces))); c != 0 {
		t.Errorf("no anomaly: cap %v", c)
	}
}
