// This file implements the evaluator of a served case's queries: their
// kernel calls go to the runner its steps use (a single server's
// Options.Kernels; a cluster node's API Kernels, the tenant's
// runtime/meter Accelerator under knhk serve --node, --bft and --node
// --tenants), or the process's device, so that under knhk serve a
// query's accelerator time is metered to the tenant whose case it
// reads, and a licence that keeps the tenant's kernel calls off the
// accelerator keeps its queries' off it too.

package server

import (
	"github.com/knhk/knhk/accel"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/eval"
	"github.com/knhk/knhk/runtime/host"
)

// queryEval returns the evaluator of the service's queries.
func (s *Service) queryEval() engine.Evaluator { return queryEvaluator(s.opts.Kernels) }

// queryEvaluator returns the evaluator of queries over kernels, or the
// process's device runner when kernels is nil.
func queryEvaluator(kernels eval.KernelRunner) engine.Evaluator {
	if kernels == nil {
		kernels = accel.Shared()
	}
	return &host.Evaluator{Kernels: kernels}
}
