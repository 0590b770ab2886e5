//go:build race

package anomaly_test

// raceEnabled bounds the real-log tests under the race detector.
const raceEnabled = true
