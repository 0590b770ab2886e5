// This file implements the evaluator of a served case's queries: their
// kernel calls go to the service's kernel runner (Options.Kernels, or
// the process's device), as its cases' steps do, so that under knhk
// serve a query's accelerator time is metered to the tenant whose case
// it reads, and a licence that keeps the tenant's kernel calls off the
// accelerator keeps its queries' off it too.

package server

import (
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/host"
)

// queryEval returns the evaluator of the service's queries.
func (s *Service) queryEval() engine.Evaluator { return &host.Evaluator{Kernels: s.kernels()} }
