//go:build !race

package cluster

const timingScale = 1
