//go:build race

package eventlog_test

// raceEnabled bounds the real-log tests under the race detector.
const raceEnabled = true
