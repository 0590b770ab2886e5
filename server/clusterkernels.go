// This file implements the kernel runner of a cluster node's queries
// (knhk serve --node, --bft, and each tenant's raft group under --node
// --tenants): the node sets the API's Kernels to the runner its steps
// use, the tenant's runtime/meter Accelerator, so that a query's kernel
// calls are metered to the tenant whose case it reads and a licence
// that keeps the tenant off the accelerator keeps its queries off it
// too, as a single server's queries (querykernels.go).

package server

import (
	"github.com/knhk/knhk/accel"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/host"
)

// clusterQueryEval returns the evaluator of a node's queries over
// kernels, or the process's device runner when kernels is nil.
func clusterQueryEval(kernels eval.KernelRunner) engine.Evaluator {
	if kernels == nil {
		kernels = accel.Shared()
	}
	return &host.Evaluator{Kernels: kernels}
}
