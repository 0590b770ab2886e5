// This file tests the learning curve: blocks merge as it grows, its
// total and recent mean are exact, and it plots as a PNG.

package learn

import (
	"bytes"
	"image/png"
	"math"
	"testing"
)

func TestCurve(t *testing.T) {
	var c Curve
	const n = 5000
	var sum, recent float64
	for i := range n {
		r := float64(i % 10)
		c.Add(r)
		sum += r
		if i >= n-recentN {
			recent += r
		}
	}
	if c.Total() != n || len(c.Means) > curvePoints || len(c.Recent) != recentN {
		t.Fatalf("total %d (want %d), %d blocks, %d recent", c.Total(), n, len(c.Means), len(c.Recent))
	}
	if err := c.check(); err != nil {
		t.Fatal(err)
	}
	// The blocks, weighted by their sizes, average to the mean reward.
	var got float64
	for i, m := range c.Means {
		size := float64(c.Block)
		if i == len(c.Means)-1 {
			size = float64(c.Last)
		}
		got += m * size
	}
	if math.Abs(got-sum) > 1e-6 || math.Abs(c.RecentMean()-recent/recentN) > 1e-9 {
		t.Errorf("blocks sum to %v (want %v), recent mean %v (want %v)", got, sum, c.RecentMean(), recent/recentN)
	}
	var buf bytes.Buffer
	if err := c.WritePNG(&buf, "carrier"); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil || img.Bounds().Dx() < 100 {
		t.Fatalf("not a PNG plot: %v", err)
	}
	if err := (Curve{}).WritePNG(&buf, "empty"); err == nil {
		t.Error("an empty curve plotted without error")
	}
}
