//go:build race

package predict_test

// raceEnabled bounds the real-log tests under the race detector, which
// makes the numeric code some ten times slower.
const raceEnabled = true
