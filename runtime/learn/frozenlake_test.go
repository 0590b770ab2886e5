// This file tests value iteration on FrozenLake 4×4, slippery, as Gym
// defines it: an action moves in its direction or either perpendicular
// one with probability 1/3 each, a move off the grid stays put, holes and
// the goal end the episode, and reaching the goal earns 1.

package learn

import (
	"math"
	"testing"
)

var frozenLake = []string{
	"SFFF",
	"FHFH",
	"FFFH",
	"HFFG",
}

// frozenLakeMDP builds the environment; actions are Gym's: 0 left,
// 1 down, 2 right, 3 up.
func frozenLakeMDP(grid []string) MDP {
	rows, cols := len(grid), len(grid[0])
	cell := func(s int) byte { return grid[s/cols][s%cols] }
	dr := [4]int{0, 1, 0, -1}
	dc := [4]int{-1, 0, 1, 0}
	move := func(s, a int) int {
		r, c := s/cols+dr[a], s%cols+dc[a]
		if r < 0 || r >= rows || c < 0 || c >= cols {
			return s
		}
		return r*cols + c
	}
	return MDP{
		States: rows * cols, Actions: 4,
		Terminal: func(s int) bool { return cell(s) == 'H' || cell(s) == 'G' },
		Step: func(s, a int) []Outcome {
			var out []Outcome
			for _, b := range []int{(a + 3) % 4, a, (a + 1) % 4} {
				t := move(s, b)
				r := 0.0
				if cell(t) == 'G' {
					r = 1
				}
				out = append(out, Outcome{P: 1.0 / 3, S: t, R: r})
			}
			return out
		},
	}
}

// TestFrozenLakeValueIteration checks the probability of reaching the
// goal within 100 steps under the optimal policy, 0.744190 (to six
// places), and that with no bound on the steps it is higher.
func TestFrozenLakeValueIteration(t *testing.T) {
	m := frozenLakeMDP(frozenLake)
	v, _ := ValueIteration(m, 1, 100)
	if got := math.Round(v[0]*1e6) / 1e6; got != 0.744190 {
		t.Errorf("success probability within 100 steps = %.7f, want 0.744190", v[0])
	}
	inf, _ := ValueIteration(m, 1, 0)
	if !(inf[0] > v[0] && inf[0] <= 1) {
		t.Errorf("unbounded success probability %v, want in (%v, 1]", inf[0], v[0])
	}
}
