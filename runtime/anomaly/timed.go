// This file implements reading the times of a log's events beside its
// activity sequences, and the clock resolution injected events keep.

package anomaly

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/knhk/knhk/runtime/export"
)

// TimedTraces is [Traces] with the time of each event, in seconds since
// the Unix epoch, in the order of the activities. A log in which some
// event carries no time gives nil times (the duration score then stays
// zero): a missing time is no gap to judge.
func TimedTraces(l *export.Log) (traces [][]int, times [][]float64, names []string) {
	traces, names = Traces(l)
	hasComplete := false
	for _, t := range l.Traces {
		for _, e := range t.Events {
			hasComplete = hasComplete || e.Lifecycle == export.Complete
		}
	}
	times = make([][]float64, len(l.Traces))
	for i, t := range l.Traces {
		evs := sortedEvents(t.Events)
		for _, e := range evs {
			if hasComplete && e.Lifecycle == export.Start {
				continue
			}
			if e.Time.IsZero() {
				return traces, nil, names
			}
			times[i] = append(times[i], float64(e.Time.UnixMilli())/1000)
		}
	}
	return traces, times, names
}

// resolution returns the coarsest of a minute, a second and a
// millisecond that every time is a whole multiple of: the log's clock.
// An injected event's time is rounded to it, so that it cannot be told
// by a finer clock than the log's (repair's times are whole minutes,
// helpdesk's whole seconds).
func resolution(times [][]float64) float64 {
	for _, r := range []float64{60, 1, 0.001} {
		ok := true
		for _, ts := range times {
			for _, t := range ts {
				ms := math.Round(t * 1000)
				if math.Mod(ms, r*1000) != 0 {
					ok = false
					break
				}
			}
			if !ok {
				break
			}
		}
		if ok {
			return r
		}
	}
	return 0.001
}

// clock is what the injector knows of a log's times: its resolution
// and the gaps between consecutive events, by pair of activities, from
// which an event injected before the first or after the last event of
// a trace, or a repeated run, draws its distance to its neighbour: a
// gap the log has for that step (any of its gaps when it has none).
//
// An injected time also keeps the log's weekly rhythm: real events
// happen in office hours and on working days, and a time drawn
// uniformly between two events would put inserted ones at night and on
// Sundays, which a detector could learn instead of the anomaly. So a
// drawn time is kept with a probability proportional to how many of
// the log's events fall in its hour of the week, and drawn again
// otherwise (up to rhythmDraws times).
type clock struct {
	res  float64
	all  []float64
	pair map[[2]int][]float64
	week [7 * 24]float64 // the log's events by hour of the week, over the busiest hour
}

// rhythmDraws is how many times an injected time is drawn before the
// last draw is kept, whatever its hour.
const rhythmDraws = 30

// hourOfWeek is the hour of the week (UTC) of a time in seconds.
func hourOfWeek(t float64) int {
	h := int(math.Floor(t/3600)) % (7 * 24)
	if h < 0 {
		h += 7 * 24
	}
	return h
}

// draw calls f until the hour of the time it draws is, by the log's
// rhythm, likely enough, and returns that time.
func (c *clock) draw(f func() float64, rng *rand.Rand) float64 {
	var x float64
	for range rhythmDraws {
		x = f()
		if rng.Float64() < c.week[hourOfWeek(x)] {
			break
		}
	}
	return x
}

// rework returns the times of trace t (times ts) with its run of l
// events from i repeated right after it. The repeat follows the run by
// a gap the log has for the step from the run's last activity to its
// first, and each of its own steps takes a gap the log has for that
// step, all drawn together until every repeated time keeps the log's
// rhythm (the least likely hour of them decides), up to rhythmDraws
// times. When no draw puts every repeated time at an hour the log has
// (a log whose steps take the same few hours each time), the repeat is
// the run moved by whole days instead ([clock.days]). Every later event
// keeps its time of day and moves by whole days, as many as the repeat
// took or up to six more ([clock.days]). Moving them by the repeat's
// time to the second put the rest of an office-hours case at night (a
// delay of 31 hours), which told a rework by its hours; copying the
// run's own gaps made the repeat a copy of the run to the second.
func (c *clock) rework(t []int, ts []float64, i, l int, rng *rand.Rand) []float64 {
	n := len(ts)
	out := make([]float64, n+l)
	copy(out, ts[:i+l])
	rep := out[i+l : i+2*l]
	ok := false
	for range rhythmDraws {
		prev, pa := ts[i+l-1], t[i+l-1]
		for m := range l {
			rep[m] = prev + c.gap(pa, t[i+m], rng)
			prev, pa = rep[m], t[i+m]
		}
		p := 1.0
		for _, x := range rep {
			p = min(p, c.week[hourOfWeek(x)])
		}
		if ok = rng.Float64() < p; ok {
			break
		}
	}
	if !ok {
		d := c.days(ts[i:i+l], math.Floor((ts[i+l-1]-ts[i])/day)+1)
		for m := range l {
			rep[m] = ts[i+m] + d
		}
	}
	if i+l < n {
		d := c.days(ts[i+l:], math.Ceil((rep[l-1]-ts[i+l-1])/day))
		for j := i + l; j < n; j++ {
			out[j+l] = ts[j] + d
		}
	}
	return out
}

const day = 86400.0

// days returns a shift of whole days, from d0 up to d0 + 6, by which
// the times ts keep their time of day and the log's rhythm: the first
// count at which their least likely hour of the week is at least half
// as likely as at the best count of the seven (a whole number of
// weeks, among them, keeps every hour of the week), so that a delay is
// no longer than the rhythm needs.
func (c *clock) days(ts []float64, d0 float64) float64 {
	var p [7]float64
	for k := range p {
		p[k] = 1
		for _, x := range ts {
			p[k] = min(p[k], c.week[hourOfWeek(x+(d0+float64(k))*day)])
		}
	}
	top := slices.Max(p[:])
	for k := range p {
		if p[k] >= top/2 {
			return (d0 + float64(k)) * day
		}
	}
	return d0 * day
}

func newClock(traces [][]int, times [][]float64) *clock {
	if times == nil {
		return nil
	}
	c := &clock{res: resolution(times), pair: map[[2]int][]float64{}}
	for i, ts := range times {
		for j := 1; j < len(ts); j++ {
			g := ts[j] - ts[j-1]
			c.all = append(c.all, g)
			p := [2]int{traces[i][j-1], traces[i][j]}
			c.pair[p] = append(c.pair[p], g)
		}
	}
	if len(c.all) == 0 {
		c.all = []float64{0}
	}
	for _, ts := range times {
		for _, t := range ts {
			c.week[hourOfWeek(t)]++
		}
	}
	if top := slices.Max(c.week[:]); top > 0 {
		for h := range c.week {
			c.week[h] /= top
		}
	}
	return c
}

// between returns the time of activity a inserted at position j of the
// trace t with times ts (j = len(ts): after the last): drawn uniformly
// between the times of the events either side and rounded to the log's
// clock, or, before the first or after the last event, a gap of the log
// for that step away from it; at an hour the log's rhythm makes likely.
func (c *clock) between(t []int, ts []float64, j, a int, rng *rand.Rand) float64 {
	switch {
	case len(ts) == 0:
		return 0
	case j == 0:
		return c.draw(func() float64 { return ts[0] - c.gap(a, t[0], rng) }, rng)
	case j == len(ts):
		return c.draw(func() float64 { return ts[j-1] + c.gap(t[j-1], a, rng) }, rng)
	}
	lo, hi := ts[j-1], ts[j]
	return c.draw(func() float64 {
		x := math.Round((lo+rng.Float64()*(hi-lo))/c.res) * c.res
		return min(max(x, lo), hi)
	}, rng)
}

// gap draws a gap the log has between activities a and b.
func (c *clock) gap(a, b int, rng *rand.Rand) float64 {
	g := c.pair[[2]int{a, b}]
	if len(g) == 0 {
		g = c.all
	}
	return g[rng.IntN(len(g))]
}
