//go:build race

package learn

// raceEnabled is set under the race detector, which slows the routing
// benchmark about tenfold: it then runs one seed per policy (.ci/test.sh
// runs all five without it).
const raceEnabled = true
