// This file tests value iteration on Taxi-v3 as Gym defines it: a 5×5
// grid with walls, four stands R, G, Y, B, 500 states (taxi row and
// column, passenger at a stand or in the taxi, destination stand), six
// actions (south, north, east, west, pickup, dropoff), -1 per step, -10
// for a pickup or dropoff where there is nothing to do, and +20 for
// delivering the passenger, which ends the episode.

package learn

import (
	"math"
	"testing"
)

// taxiMap is Gym's map: a '|' between two cells is a wall.
var taxiMap = []string{
	"+---------+",
	"|R: | : :G|",
	"| : | : : |",
	"| : : : : |",
	"| | : | : |",
	"|Y| : |B: |",
	"+---------+",
}

var taxiStands = [4][2]int{{0, 0}, {0, 4}, {4, 0}, {4, 3}}

func taxiEncode(row, col, pass, dest int) int { return ((row*5+col)*5+pass)*4 + dest }

func taxiDecode(s int) (row, col, pass, dest int) {
	dest = s % 4
	s /= 4
	pass = s % 5
	s /= 5
	return s / 5, s % 5, pass, dest
}

// taxiMDP builds the environment; state 500 is the end of the episode.
func taxiMDP() MDP {
	const done = 500
	return MDP{
		States: 501, Actions: 6,
		Terminal: func(s int) bool { return s == done },
		Step: func(s, a int) []Outcome {
			row, col, pass, dest := taxiDecode(s)
			r := -1.0
			switch a {
			case 0:
				row = min(row+1, 4)
			case 1:
				row = max(row-1, 0)
			case 2:
				if taxiMap[1+row][2*col+2] == ':' {
					col++
				}
			case 3:
				if taxiMap[1+row][2*col] == ':' {
					col--
				}
			case 4:
				if pass < 4 && taxiStands[pass] == [2]int{row, col} {
					pass = 4
				} else {
					r = -10
				}
			case 5:
				switch {
				case pass == 4 && taxiStands[dest] == [2]int{row, col}:
					return []Outcome{{P: 1, S: done, R: 20}}
				case pass == 4 && taxiAtStand(row, col) >= 0:
					pass = taxiAtStand(row, col) // left at another stand
				default:
					r = -10
				}
			}
			return []Outcome{{P: 1, S: taxiEncode(row, col, pass, dest), R: r}}
		},
	}
}

func taxiAtStand(row, col int) int {
	for i, st := range taxiStands {
		if st == [2]int{row, col} {
			return i
		}
	}
	return -1
}

// TestTaxiOptimalReturn checks the mean undiscounted return of the
// optimal policy over Taxi-v3's 300 starts (any taxi cell, passenger at
// a stand, destination another stand): 7.930. The policy is also played
// out from every start, which must give the same returns.
func TestTaxiOptimalReturn(t *testing.T) {
	m := taxiMDP()
	v, pol := ValueIteration(m, 1, 0)
	var sum, played float64
	starts := 0
	for cell := range 25 {
		for pass := range 4 {
			for dest := range 4 {
				if pass == dest {
					continue
				}
				s := taxiEncode(cell/5, cell%5, pass, dest)
				sum += v[s]
				starts++
				ret := 0.0
				for step := 0; step < 200 && !m.Terminal(s); step++ {
					o := m.Step(s, pol[s])[0]
					ret += o.R
					s = o.S
				}
				if !m.Terminal(s) {
					t.Fatalf("the optimal policy does not finish from start %d", starts)
				}
				played += ret
			}
		}
	}
	if starts != 300 {
		t.Fatalf("%d starts, want 300", starts)
	}
	mean := sum / 300
	if math.Abs(mean-7.930) > 0.0005 {
		t.Errorf("mean optimal return %.4f, want 7.930", mean)
	}
	if math.Abs(played/300-mean) > 1e-9 {
		t.Errorf("playing the policy returns %.4f on average, its values say %.4f", played/300, mean)
	}
}
