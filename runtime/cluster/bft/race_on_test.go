//go:build race

package bft

// raceEnabled says the race detector is on. CometBFT v0.38.26's p2p layer
// has data races of its own on shutdown (Switch.OnStop marks a peer
// stopped while the evidence reactor's broadcastEvidenceRoutine reads the
// same field), so a test that stops a network of real nodes fails under
// -race for reasons outside this package; .ci/test.sh runs these tests
// again without -race.
const raceEnabled = true
