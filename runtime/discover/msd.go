// This file implements minimum self-distance witnesses, which keep
// activities of one loop iteration out of a parallel cut.

package discover

// msd maps an activity to the activities seen between two of its
// occurrences at their minimum distance in the log.
type msd map[int]map[int]bool

// witnesses computes, for each activity that repeats, its minimum
// self-distance over the log and the activities in between at that
// distance.
func witnesses(l sublog) msd {
	dist := map[int]int{}
	w := msd{}
	for _, t := range l {
		last := map[int]int{}
		for i, a := range t.Acts {
			if j, ok := last[a]; ok {
				d := i - j - 1
				cur, seen := dist[a]
				switch {
				case !seen || d < cur:
					dist[a] = d
					w[a] = map[int]bool{}
					fallthrough
				case d == cur:
					for _, b := range t.Acts[j+1 : i] {
						w[a][b] = true
					}
				}
			}
			last[a] = i
		}
	}
	return w
}
