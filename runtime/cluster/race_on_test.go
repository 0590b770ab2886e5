//go:build race

package cluster

// timingScale slows the tests' raft timeouts under the race detector,
// which makes a loaded machine miss 50ms heartbeats.
const timingScale = 4
