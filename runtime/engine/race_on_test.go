//go:build race

package engine

// raceEnabled is set under the race detector, which slows the
// exhaustive differential tests about tenfold: they run fewer programs.
const raceEnabled = true
