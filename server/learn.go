// This file implements the policies of the learned routes of the
// programs a Service runs: each program's routes choose with the
// policies kept in the data directory's learn/ folder (runtime/learn),
// trained as chosen calls end and saved when the Service closes.

package server

import (
	"fmt"

	"github.com/knhk/knhk/compiler/ir"
	"github.com/knhk/knhk/runtime/engine"
	"github.com/knhk/knhk/runtime/learn"
)

// learnPolicy returns the policy of prog's learned routes, nil (the
// engine's default, the first candidate) when it has none. A bad
// learn/config.json is reported on the Service's log and the program
// runs with the default policy: a configuration mistake must not stop
// cases. Two programs that declare the same route share its file; the
// one that saves last keeps its state.
func (s *Service) learnPolicy(prog *ir.Program) engine.Policy {
	has := false
	for _, n := range prog.Nets {
		for _, t := range n.Transitions {
			has = has || t.Kind == ir.TRoute
		}
	}
	if !has {
		return nil
	}
	logf := func(format string, args ...any) { fmt.Fprintf(s.opts.Log, "knhk serve: "+format+"\n", args...) }
	p, err := learn.Open(prog, learn.Options{Dir: s.dir, Logf: logf})
	if err != nil {
		logf("learned routes take their first candidate: %v", err)
		return nil
	}
	s.mu.Lock()
	s.policies = append(s.policies, p)
	s.mu.Unlock()
	return p
}

// closePolicies saves and stops the policies, once no case runs.
func (s *Service) closePolicies() {
	s.mu.Lock()
	ps := s.policies
	s.policies = nil
	s.mu.Unlock()
	for _, p := range ps {
		if err := p.Close(); err != nil {
			fmt.Fprintf(s.opts.Log, "knhk serve: %v\n", err)
		}
	}
}
