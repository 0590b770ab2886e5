//go:build race

package tenant

// clusterScale slows the cluster tests' raft timeouts under the race
// detector, which makes a loaded machine miss short heartbeats.
const clusterScale = 4
