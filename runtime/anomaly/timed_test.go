package anomaly_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/anomaly"
	"github.com/knhk/knhk/runtime/export"
)

// timedLog is 600 runs of 0 1 2 3 4 5, an hour between steps but for a
// day between 2 and 3, at whole minutes.
func timedLog() ([][]int, [][]float64) {
	var traces [][]int
	var times [][]float64
	for i := range 600 {
		t0 := float64(1_599_999_960 + 86400*i) // whole minutes
		ts := []float64{t0}
		for j := 1; j < 6; j++ {
			g := 3600.0 + 60*float64(i%7)
			if j == 3 {
				g = 86400 + 60*float64(i%5)
			}
			ts = append(ts, ts[j-1]+g)
		}
		traces = append(traces, []int{0, 1, 2, 3, 4, 5})
		times = append(times, ts)
	}
	return traces, times
}

// TestInjectTimed: an injected case's times are what a real case would
// have: in order, at the log's clock (whole minutes here), the kept
// events at their times (a skip or a swap moves no time), a repeated
// run following it by gaps the log has (or the run moved by whole days)
// and delaying what follows it by whole days; the activities change as
// under Inject.
func TestInjectTimed(t *testing.T) {
	traces, times := timedLog()
	out, outT, labels := anomaly.InjectTimed(traces, times, 6, 0.1, nil, rand.New(rand.NewPCG(7, 8)))
	n := 0
	for i, l := range labels {
		o, ts, orig := out[i], outT[i], times[i]
		if len(o) != len(ts) {
			t.Fatalf("%s: %d activities, %d times", l, len(o), len(ts))
		}
		if l == anomaly.Normal {
			if !slices.Equal(ts, orig) {
				t.Fatalf("normal trace %d: times changed", i)
			}
			continue
		}
		n++
		if !slices.IsSorted(ts) {
			t.Errorf("%s: times out of order: %v", l, ts)
		}
		for _, x := range ts {
			if math.Mod(x, 60) != 0 {
				t.Errorf("%s: time %v not at the log's clock of a minute", l, x)
			}
		}
		switch l {
		case anomaly.Skip:
			if !isSubsequence(ts, orig) || len(ts) != len(orig)-1 {
				t.Errorf("skip: times %v from %v", ts, orig)
			}
		case anomaly.Swap:
			if !slices.Equal(ts, orig) {
				t.Errorf("swap: times %v from %v", ts, orig)
			}
		case anomaly.Insert, anomaly.Early, anomaly.Late:
			// Every original time but a moved event's is kept.
			kept := 0
			for _, x := range orig {
				if slices.Contains(ts, x) {
					kept++
				}
			}
			if kept < len(orig)-1 {
				t.Errorf("%s: times %v keep %d of %v", l, ts, kept, orig)
			}
		case anomaly.Rework:
			checkRework(t, o, ts, orig, logGap)
		}
	}
	if n != 60 {
		t.Errorf("%d anomalous traces, want 60", n)
	}
}

// logGap says whether timedLog has gap g between two of its events.
func logGap(g float64) bool { return g >= 3600 && g <= 3960 || g >= 86400 && g <= 86640 }

// checkRework checks a rework of a trace of distinct activities in
// increasing order (o the activities, ts their times, orig the original
// times): the times before the repeat are kept; the repeat follows the
// run by gaps the log has (hasGap), or is the run moved by whole days;
// every later event keeps its time of day and moves by the same whole
// number of days.
func checkRework(t *testing.T, o []int, ts, orig []float64, hasGap func(float64) bool) {
	t.Helper()
	l := len(o) - len(orig)
	j := 1 // where the repeat starts: the first activity not above the one before
	for j < len(o) && o[j] > o[j-1] {
		j++
	}
	i := j - l
	if l < 1 || i < 0 || !slices.Equal(ts[:j], orig[:j]) {
		t.Fatalf("rework: times %v from %v", ts, orig)
	}
	gaps, moved := true, true
	for m := range l {
		gaps = gaps && hasGap(ts[j+m]-ts[j+m-1])
		d := (ts[j+m] - orig[i+m]) / 86400
		moved = moved && d >= 1 && d == math.Trunc(d) && ts[j+m]-orig[i+m] == ts[j]-orig[i]
	}
	if !gaps && !moved {
		t.Errorf("rework: repeat %v neither follows gaps the log has nor moves the run %v by whole days", ts[j:j+l], orig[i:j])
	}
	for k := j; k < len(orig); k++ {
		d := (ts[k+l] - orig[k]) / 86400
		if d < 1 || d != math.Trunc(d) || ts[k+l]-orig[k] != ts[j+l]-orig[j] {
			t.Errorf("rework: later events %v not %v moved by one number of whole days", ts[j+l:], orig[j:])
			break
		}
	}
}

func isSubsequence(sub, s []float64) bool {
	j := 0
	for _, x := range s {
		if j < len(sub) && sub[j] == x {
			j++
		}
	}
	return j == len(sub)
}

// TestDurations: a case whose step took far longer than that step
// takes in training, or far shorter, scores above every usual case,
// even though a long gap is usual for another step; a case on the
// usual times scores low.
func TestDurations(t *testing.T) {
	traces, times := timedLog()
	d := anomaly.TrainDurations(traces, times)
	usual := times[3]
	long := slices.Clone(usual) // 1 -> 2 takes a day, as only 2 -> 3 does
	for j := 2; j < 6; j++ {
		long[j] += 86400
	}
	short := slices.Clone(usual) // 2 -> 3 in an hour
	for j := 3; j < 6; j++ {
		short[j] -= 86400 - 3600
	}
	s := d.Score([][]int{traces[0], traces[0], traces[0]}, [][]float64{usual, long, short})
	all := d.Score(traces, times)
	if top := slices.Max(all); !(s[1] > top && s[2] > top) {
		t.Errorf("scores usual %.2f, long %.2f, short %.2f; the highest training case %.2f", s[0], s[1], s[2], top)
	}
	if z := anomaly.TrainDurations(traces, nil).Score(traces, nil); slices.Max(z) != 0 {
		t.Errorf("without times: scores %v", z[:3])
	}
}

// TestTimedTraces: the times come in the activities' order, start
// events dropped as Traces drops them; a log with an event without a
// time gives none.
func TestTimedTraces(t *testing.T) {
	at := func(m int) time.Time { return time.Date(2024, 1, 1, 0, m, 0, 0, time.UTC) }
	l := &export.Log{Traces: []export.Trace{{Case: "1", Events: []export.Event{
		{Activity: "b", Lifecycle: export.Complete, Time: at(5)},
		{Activity: "a", Lifecycle: export.Start, Time: at(0)},
		{Activity: "a", Lifecycle: export.Complete, Time: at(2)},
	}}}}
	tr, ts, names := anomaly.TimedTraces(l)
	if !slices.Equal(names, []string{"a", "b"}) || !slices.Equal(tr[0], []int{0, 1}) || len(ts) != 1 ||
		!slices.Equal(ts[0], []float64{float64(at(2).Unix()), float64(at(5).Unix())}) {
		t.Errorf("traces %v, times %v, names %v", tr, ts, names)
	}
	for _, evs := range [][]export.Event{
		{{Activity: "a"}, {Activity: "b"}},
		{{Activity: "a", Time: at(1)}, {Activity: "b"}},
	} {
		l.Traces[0].Events = evs
		if tr, ts, _ := anomaly.TimedTraces(l); ts != nil || len(tr[0]) != 2 {
			t.Errorf("an event without a time: traces %v, times %v", tr, ts)
		}
	}
}

// TestInjectRhythm: on a log whose events all happen on working days
// between 9 and 17 h, nearly every injected time does too, though most
// of the time between two events is nights and weekends: an inserted,
// moved or reworked event, or one a rework delays, cannot be told by
// its hour.
func TestInjectRhythm(t *testing.T) {
	monday := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	workday := func(k int) time.Time { return monday.AddDate(0, 0, k/5*7+k%5) }
	var traces [][]int
	var times [][]float64
	for i := range 600 {
		var ts []float64
		for d := range 3 {
			day := workday(i%200 + d)
			for _, h := range []int{10, 15} {
				ts = append(ts, float64(day.Add(time.Duration(h)*time.Hour).Unix()))
			}
		}
		traces = append(traces, []int{0, 1, 2, 3, 4, 5})
		times = append(times, ts)
	}
	_, outT, labels := anomaly.InjectTimed(traces, times, 6, 0.3, nil, rand.New(rand.NewPCG(1, 2)))
	in, all := 0, 0
	for i, l := range labels {
		if l == anomaly.Normal || l == anomaly.Skip || l == anomaly.Swap {
			continue // times kept
		}
		for _, x := range outT[i] {
			if slices.Contains(times[i], x) {
				continue
			}
			all++
			tm := time.Unix(int64(x), 0).UTC()
			if tm.Weekday() != time.Saturday && tm.Weekday() != time.Sunday && tm.Hour() >= 9 && tm.Hour() < 17 {
				in++
			}
		}
	}
	if all < 50 || float64(in) < 0.9*float64(all) {
		t.Errorf("%d of %d injected times on working days between 9 and 17 h", in, all)
	}
}

// TestAutoencoderDurations: autoencoders trained with times (on a log of
// 60 paths, enough for the durations to be among their features) score
// a case on a usual path but with steps a hundred times slower than
// usual above the cases like their training ones; without times they
// cannot tell it.
func TestAutoencoderDurations(t *testing.T) {
	var tr [][]int
	var ts [][]float64
	for i := range 600 {
		k := i % 60
		tr = append(tr, []int{0, 1 + k%6, 7 + k/6, 17})
		t0 := 1_599_999_960 + 86400*float64(i)
		ts = append(ts, []float64{t0, t0 + 3600, t0 + 7200 + 60*float64(i%5), t0 + 10800})
	}
	slow := slices.Clone(ts[0])
	for j := 2; j < len(slow); j++ {
		slow[j] += 100 * 3600
	}
	test, testT := [][]int{tr[0], tr[1], tr[0]}, [][]float64{ts[0], ts[1], slow}
	o := anomaly.Options{Steps: 500, Ensemble: 1}
	s := anomaly.TrainAutoencoderTimed(tr, ts, 18, o).ScoreTimed(test, testT)
	if !(s[2] > s[0] && s[2] > s[1]) {
		t.Errorf("with times: scores %v, want the slow case's highest", s)
	}
	u := anomaly.TrainAutoencoder(tr, 18, o).Score(test)
	if u[2] != u[0] {
		t.Errorf("without times the slow case is its path, scored %v like the usual case's %v", u[2], u[0])
	}
}
