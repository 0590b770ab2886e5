//go:build !race

package server

const clusterTimingScale = 1
