//go:build race

package server

// clusterTimingScale slows the cluster tests' raft timeouts under the
// race detector, which makes a loaded machine miss short heartbeats.
const clusterTimingScale = 4
