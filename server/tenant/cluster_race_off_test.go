//go:build !race

package tenant

// clusterScale: see cluster_race_on_test.go.
const clusterScale = 1
