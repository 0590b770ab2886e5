package discover_test

import (
	"strings"
	"testing"
	"time"

	"github.com/knhk/knhk/runtime/discover"
	"github.com/knhk/knhk/runtime/export"
)

// logOf builds a log from traces written as space-separated activities.
func logOf(traces ...string) *discover.Log {
	l := &export.Log{}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, tr := range traces {
		t := export.Trace{Case: string(rune('a' + i))}
		for j, a := range strings.Fields(tr) {
			t.Events = append(t.Events, export.Event{Activity: a, Time: t0.Add(time.Duration(j) * time.Minute)})
		}
		l.Traces = append(l.Traces, t)
	}
	return discover.FromExport(l)
}

func mine(t *testing.T, l *discover.Log, noise float64) *discover.Node {
	t.Helper()
	n, err := discover.Discover(l, discover.Options{Noise: noise})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCuts: each operator is found on a log that shows it.
func TestCuts(t *testing.T) {
	for _, c := range []struct {
		traces []string
		want   string
	}{
		{[]string{"a b c", "a b c"}, "->( 'a', 'b', 'c' )"},
		{[]string{"a b", "a c"}, "->( 'a', X( 'b', 'c' ) )"},
		{[]string{"a b c d", "a c b d"}, "->( 'a', +( 'b', 'c' ), 'd' )"},
		{[]string{"a b a b a", "a"}, "*( 'a', 'b' )"},
		{[]string{"a", ""}, "X( 'a', tau )"},
		{[]string{"a a a", "a"}, "*( 'a', tau )"},
		{[]string{"x"}, "'x'"},
		// pm4py 2.2.0's rules: the sequence cut layers the components
		// and a sequence split hands empty traces down, so each later
		// part is skipped on its own.
		{[]string{"a b c", "a"}, "->( 'a', X( 'b', tau ), X( 'c', tau ) )"},
		// No cut while a sublog holds an empty trace: it is split off
		// first.
		{[]string{"a b", "b a", ""}, "X( +( 'a', 'b' ), tau )"},
	} {
		got := mine(t, logOf(c.traces...), 0).Canonical().String()
		if got != c.want {
			t.Errorf("%q: got %s, want %s", c.traces, got, c.want)
		}
	}
}

// TestNoise: IMf with a threshold leaves out a rare deviation that the
// plain miner has to model, and the plain miner's tree still fits.
func TestNoise(t *testing.T) {
	var traces []string
	for range 30 {
		traces = append(traces, "a b c")
	}
	traces = append(traces, "a b b c") // one repeat in 31 traces
	l := logOf(traces...)
	plain, filtered := mine(t, l, 0), mine(t, l, 0.2)
	if got, want := plain.Canonical().String(), "->( 'a', *( 'b', tau ), 'c' )"; got != want {
		t.Errorf("IM: got %s, want %s", got, want)
	}
	if got, want := filtered.Canonical().String(), "->( 'a', 'b', 'c' )"; got != want {
		t.Errorf("IMf: got %s, want %s", got, want)
	}
	sp, sf := discover.Evaluate(plain, l), discover.Evaluate(filtered, l)
	if sp.Fitness != 1 {
		t.Errorf("plain IM fitness %v, want 1", sp.Fitness)
	}
	if !(sf.Fitness < 1 && sf.Fitness > 0.95) || sf.FitTraces != 30.0/31 {
		t.Errorf("IMf tree scored %+v: want the one deviating trace to miss", sf)
	}
	if !(sf.Precision > sp.Precision) {
		t.Errorf("IMf precision %v not above plain %v", sf.Precision, sp.Precision)
	}
}

// TestScoreBounds: the flower model fits everything and is imprecise; a
// sequence model of a sequential log is exact.
func TestScoreBounds(t *testing.T) {
	l := logOf("a b c", "a b c", "a c b")
	a, b, c := &discover.Node{Label: "a"}, &discover.Node{Label: "b"}, &discover.Node{Label: "c"}
	flower := &discover.Node{Op: discover.Loop, Children: []*discover.Node{{Op: discover.Tau}, {Op: discover.Xor, Children: []*discover.Node{a, b, c}}}}
	seq := &discover.Node{Op: discover.Seq, Children: []*discover.Node{a, b, c}}
	sf, ss := discover.Evaluate(flower, l), discover.Evaluate(seq, l)
	if sf.Fitness != 1 || sf.Precision > 0.5 {
		t.Errorf("flower: %+v", sf)
	}
	if ss.Precision != 1 || ss.FitTraces != 2.0/3 || ss.Fitness >= 1 {
		t.Errorf("sequence: %+v", ss)
	}
	exact := mine(t, logOf("a b c"), 0)
	if s := discover.Evaluate(exact, logOf("a b c")); s.Fitness != 1 || s.Precision != 1 {
		t.Errorf("exact model: %+v", s)
	}
}

func TestDiscoverErrors(t *testing.T) {
	if _, err := discover.Discover(logOf("", ""), discover.Options{}); err != discover.ErrNoActivities {
		t.Errorf("empty traces: %v", err)
	}
	if _, err := discover.Discover(logOf("a"), discover.Options{Noise: 1}); err == nil || !strings.Contains(err.Error(), "noise 1 is outside [0, 1)") {
		t.Errorf("noise 1: %v", err)
	}
}
