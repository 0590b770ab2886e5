// This file implements placement: which members vote, so that no region
// holds a majority of the voters and losing one region never loses the
// quorum.

package cluster

import (
	"fmt"
	"slices"
	"strings"
)

// Candidate is a member placement may make a voter.
type Candidate struct {
	ID, Region string
	Voter      bool // votes now
	Leader     bool // leads now: it stays a voter
	// CaughtUp is set when the member has applied (nearly) everything
	// the leader has; a voter counts as caught up.
	CaughtUp bool
}

// Place returns the voters a cluster of cands should have, at most want
// of them, and a warning when the regions cannot be kept safe.
//
// The rule: with V voters, no region holds more than (V-1)/2 of them (a
// minority), so that a region's loss leaves a quorum. Place picks the
// largest odd V up to want for which the caught-up members allow that
// (an even V tolerates no more failures than V-1), keeping the leader
// and the present voters where it can. When no V of 3 or more allows it
// (fewer than three regions, say), it ignores regions, picks up to want
// voters, and says which region could take the quorum down with it.
func Place(cands []Candidate, want int) (voters []string, warning string) {
	var pool []Candidate
	for _, c := range cands {
		if c.CaughtUp || c.Voter || c.Leader {
			pool = append(pool, c)
		}
	}
	// Leader first, then the voters, then the rest, each by id: the
	// fewest changes, and the same answer on every call.
	slices.SortFunc(pool, func(a, b Candidate) int {
		if a.Leader != b.Leader {
			return boolFirst(a.Leader)
		}
		if a.Voter != b.Voter {
			return boolFirst(a.Voter)
		}
		return strings.Compare(a.ID, b.ID)
	})
	perRegion := map[string]int{}
	for _, c := range pool {
		perRegion[c.Region]++
	}
	k := min(want, len(pool))
	if k%2 == 0 && k > 1 {
		k--
	}
	for ; k >= 3; k -= 2 {
		limit := (k - 1) / 2
		room := 0
		for _, n := range perRegion {
			room += min(n, limit)
		}
		if room >= k {
			return pick(pool, k, limit), ""
		}
	}
	k = min(want, len(pool))
	voters = pick(pool, k, k)
	if len(regionsOf(cands)) > 1 {
		warning = unsafeRegions(pool, voters)
	}
	return voters, warning
}

func boolFirst(a bool) int {
	if a {
		return -1
	}
	return 1
}

// pick takes the first k of pool with at most limit from one region.
func pick(pool []Candidate, k, limit int) []string {
	taken := map[string]int{}
	var out []string
	for _, c := range pool {
		if len(out) == k {
			break
		}
		if taken[c.Region] < limit {
			taken[c.Region]++
			out = append(out, c.ID)
		}
	}
	slices.Sort(out)
	return out
}

func regionsOf(cands []Candidate) map[string]bool {
	rs := map[string]bool{}
	for _, c := range cands {
		rs[c.Region] = true
	}
	return rs
}

// unsafeRegions names the regions holding more than a minority of
// voters.
func unsafeRegions(pool []Candidate, voters []string) string {
	in := map[string]int{}
	for _, c := range pool {
		if slices.Contains(voters, c.ID) {
			in[c.Region]++
		}
	}
	var bad []string
	for _, r := range sortedKeys(in) {
		if in[r] > (len(voters)-1)/2 {
			bad = append(bad, fmt.Sprintf("%s holds %d of %d voters", regionName(r), in[r], len(voters)))
		}
	}
	if len(bad) == 0 {
		return ""
	}
	return "losing one region can lose the quorum: " + strings.Join(bad, ", ") + " (add caught-up members in other regions)"
}

func regionName(r string) string {
	if r == "" {
		return "region (none)"
	}
	return "region " + r
}
