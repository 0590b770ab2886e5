// This file implements a route's learning curve: the mean reward of
// consecutive blocks of decisions, kept to a bounded number of points by
// merging neighbours as the history grows, and its plot.

package learn

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// curvePoints bounds the number of blocks a curve keeps.
const curvePoints = 512

// recentN is how many of the latest rewards Recent averages.
const recentN = 100

// Curve is the reward history of a route.
type Curve struct {
	Block  int64     `json:"block"`  // decisions per full block
	Means  []float64 `json:"means"`  // mean reward of each block
	Last   int64     `json:"last"`   // decisions in the last block (≤ Block)
	Recent []float64 `json:"recent"` // the latest rewards, oldest first
}

// Add appends one reward.
func (c *Curve) Add(r float64) {
	if c.Block == 0 {
		c.Block = 1
	}
	if len(c.Means) == curvePoints && c.Last == c.Block {
		c.halve()
	}
	if len(c.Means) == 0 || c.Last == c.Block {
		c.Means = append(c.Means, r)
		c.Last = 1
	} else {
		c.addLast(r)
	}
	c.Recent = append(c.Recent, r)
	if len(c.Recent) > recentN {
		c.Recent = append(c.Recent[:0], c.Recent[len(c.Recent)-recentN:]...)
	}
}

func (c *Curve) addLast(r float64) {
	i := len(c.Means) - 1
	c.Last++
	c.Means[i] += (r - c.Means[i]) / float64(c.Last)
}

// halve merges neighbouring blocks, doubling the block size.
func (c *Curve) halve() {
	out := c.Means[:0]
	for i := 0; i+1 < len(c.Means); i += 2 {
		out = append(out, (c.Means[i]+c.Means[i+1])/2)
	}
	c.Means = out
	c.Block *= 2
	c.Last = c.Block
}

// Total returns the number of rewards added.
func (c Curve) Total() int64 {
	if len(c.Means) == 0 {
		return 0
	}
	return int64(len(c.Means)-1)*c.Block + c.Last
}

// RecentMean returns the mean of the latest rewards, NaN when none.
func (c Curve) RecentMean() float64 {
	if len(c.Recent) == 0 {
		return math.NaN()
	}
	var s float64
	for _, r := range c.Recent {
		s += r
	}
	return s / float64(len(c.Recent))
}

func (c Curve) check() error {
	if len(c.Means) > curvePoints || len(c.Recent) > recentN || c.Block < 0 || c.Last < 0 || c.Last > c.Block {
		return errors.New("learning curve out of bounds")
	}
	if len(c.Means) > 0 && c.Block == 0 {
		return errors.New("learning curve without a block size")
	}
	for _, x := range append(append([]float64(nil), c.Means...), c.Recent...) {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return errors.New("learning curve holds a number that is not finite")
		}
	}
	return nil
}

// WritePNG plots the curve of route as a PNG: the mean reward of each
// block against the number of decisions at its end.
func (c Curve) WritePNG(w io.Writer, route string) error {
	if len(c.Means) == 0 {
		return fmt.Errorf("route %s has no rewards yet", route)
	}
	p := plot.New()
	p.Title.Text = "learning curve of route " + route
	p.X.Label.Text = "decisions"
	p.Y.Label.Text = fmt.Sprintf("mean reward (blocks of %d)", c.Block)
	pts := make(plotter.XYs, len(c.Means))
	for i, m := range c.Means {
		end := int64(i+1) * c.Block
		if i == len(c.Means)-1 {
			end = int64(i)*c.Block + c.Last
		}
		pts[i] = plotter.XY{X: float64(end), Y: m}
	}
	l, err := plotter.NewLine(pts)
	if err != nil {
		return err
	}
	l.Color = color.Gray{Y: 160}
	// The trend: a running mean over a tenth of the points, so that
	// the noise of single blocks does not hide whether the route
	// improves.
	win := max(1, len(pts)/10)
	trend := make(plotter.XYs, len(pts))
	var sum float64
	for i, pt := range pts {
		sum += pt.Y
		if i >= win {
			sum -= pts[i-win].Y
		}
		trend[i] = plotter.XY{X: pt.X, Y: sum / float64(min(i+1, win))}
	}
	tl, err := plotter.NewLine(trend)
	if err != nil {
		return err
	}
	tl.Width = vg.Points(2)
	p.Add(plotter.NewGrid(), l, tl)
	p.Legend.Add("block mean", l)
	p.Legend.Add(fmt.Sprintf("running mean of %d", win), tl)
	p.Legend.Top = false
	wt, err := p.WriterTo(8*vg.Inch, 4*vg.Inch, "png")
	if err != nil {
		return err
	}
	_, err = wt.WriteTo(w)
	return err
}
